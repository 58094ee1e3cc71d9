"""Static directories, served by the engine with no Python per request.

>>> from databridge import App, StaticFiles
>>> app = App()
>>> app.mount("/static", StaticFiles(directory="static"), name="static")  # doctest: +SKIP

The names follow Starlette's ``StaticFiles``; the files are opened, checked
and sent in Go (package ``files``): conditional requests and ranges as
:class:`databridge.FileResponse`, precompressed ``name.br`` / ``name.gz``
siblings for clients that accept them, and no way out of the directory. The
files served lately stay open, kept exact by inotify: a file changed, replaced
or removed is served as it is now by the next request (README, "Files and
static directories").
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["StaticFiles"]


class StaticFiles:
    """A directory to serve with :meth:`databridge.App.mount`.

    ``html=True`` serves ``index.html`` for a directory (redirecting
    ``/static/docs`` to ``/static/docs/``) and ``404.html``, with status
    404, for a miss, as Starlette does; without it a directory is a 404.
    ``check_dir`` raises RuntimeError now when the directory does not
    exist (it must exist when mounted in any case). ``follow_symlink=True``
    lets symbolic links lead outside the directory; by default such a link
    is a 404. ``cache_control``, when set, is sent with every file.
    """

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str] | None = None,
        packages: Any = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
        cache_control: str | None = None,
    ) -> None:
        if packages is not None:
            raise TypeError("databridge: StaticFiles(packages=...) is not supported yet: pass directory=")
        if directory is None:
            raise TypeError("databridge: StaticFiles needs directory=")
        self.directory = os.fsdecode(os.fspath(directory))
        self.html = bool(html)
        self.follow_symlink = bool(follow_symlink)
        self.cache_control = cache_control
        if check_dir and not os.path.isdir(self.directory):
            raise RuntimeError(f"Directory '{self.directory}' does not exist")

    def __repr__(self) -> str:
        return f"StaticFiles(directory={self.directory!r}, html={self.html!r})"
