"""An app whose workers die 0.3 s after they start serving: a crash loop."""

from __future__ import annotations

import os
import threading

from databridge import App

app = App()


@app.get("/")
def index(request: dict[str, object]) -> dict[str, str]:
    return {"message": "hello"}


threading.Timer(0.3 + 0.5, os._exit, args=(3,)).start()
