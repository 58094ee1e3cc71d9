"""Listening sockets bound by the command line (no databridge._core): the
one the workers share, a Unix socket (--uds), an inherited one (--fd, as
systemd socket activation passes it). The engine serves the fd
(``Server(fd=...)``; Go's net.FileListener)."""

from __future__ import annotations

import os
import socket
import stat

__all__ = ["bind", "describe", "systemd_fds"]

#: The default of --backlog, as uvicorn's.
DEFAULT_BACKLOG = 2048


def bind(
    host: str,
    port: int,
    *,
    uds: str | None = None,
    uds_permissions: int | None = None,
    fd: int | None = None,
    backlog: int = DEFAULT_BACKLOG,
) -> socket.socket:
    """A listening socket: the inherited ``fd``, a Unix socket at ``uds``,
    or TCP ``host:port`` (IPv6 when host has a colon)."""
    if fd is not None:
        sock = socket.socket(fileno=fd)
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 0:
            sock.listen(backlog)
        return sock
    if uds is not None:
        try:
            if stat.S_ISSOCK(os.stat(uds).st_mode):
                os.unlink(uds)  # a socket left by an earlier run
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(uds)
            if uds_permissions is not None:
                os.chmod(uds, uds_permissions)
            sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        return sock
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host in ("::", ""):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def describe(sock: socket.socket, ssl: bool) -> str:
    """The URL a banner shows: http://127.0.0.1:8000, http://[::1]:8000,
    unix:/run/app.sock."""
    scheme = "https" if ssl else "http"
    if sock.family == socket.AF_UNIX:
        return f"{scheme}+unix:{sock.getsockname()}"
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def systemd_fds() -> list[int]:
    """The fds systemd passed (LISTEN_FDS, from 3) when they are ours."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return []
    return list(range(3, 3 + int(os.environ.get("LISTEN_FDS", "0"))))
