"""The raw ASGI app of bench/apps/uvicorn_raw.py, served by Granian's ASGI interface.

Same application code as the uvicorn peer, so the two rows compare the servers.
Served by bench/run.py with:
    granian --interface asgi --workers 1 --runtime-threads 1 bench.apps.granian_asgi:app
"""

from bench.apps.uvicorn_raw import app

__all__ = ["app"]
