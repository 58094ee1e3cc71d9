"""``--reload``: watch files with watchfiles and roll the workers when one
changes. The replacement is started first; only once it serves is the old
worker stopped, so an app that no longer imports (a syntax error) leaves
the old workers serving and its traceback in the log."""

from __future__ import annotations

import argparse
import fnmatch
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .supervisor import Supervisor

logger = logging.getLogger("databridge.reload")

DEFAULT_INCLUDE = ["*.py"]
DEFAULT_EXCLUDE = [".*", "*.pyc", "__pycache__", "*~", "*.swp"]


class Filter:
    def __init__(self, include: list[str], exclude: list[str]) -> None:
        self.include = include
        self.exclude = exclude

    def __call__(self, change: object, path: str) -> bool:
        parts = Path(path).parts
        if any(fnmatch.fnmatch(part, pat) for part in parts for pat in self.exclude):
            return False
        return any(fnmatch.fnmatch(parts[-1], pat) for pat in self.include)


def watch(supervisor: Supervisor, args: argparse.Namespace) -> threading.Event:
    """Start the watcher thread; returns the event that stops it."""
    try:
        import watchfiles
    except ImportError:
        raise SystemExit("databridge: --reload needs watchfiles (pip install watchfiles)") from None
    dirs = [os.path.abspath(d) for d in (args.reload_dir or [args.app_dir])]
    flt = Filter(args.reload_include or DEFAULT_INCLUDE, args.reload_exclude or DEFAULT_EXCLUDE)
    stop = threading.Event()

    def run() -> None:
        for changes in watchfiles.watch(*dirs, watch_filter=flt, stop_event=stop, debounce=200, step=50,
                                        yield_on_timeout=False, raise_interrupt=False):
            names = sorted({os.path.basename(p) for _, p in changes})
            logger.warning("reload: %s changed; restarting the workers", ", ".join(names[:5]))
            supervisor.request_reload()

    logger.info("reload: watching %s", ", ".join(dirs))
    threading.Thread(target=run, name="databridge-reload", daemon=True).start()
    return stop
