"""The command line: ``python -m databridge run module:app``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["main"]

_EPILOG = """\
examples:
  python -m databridge run examples.hello
  python -m databridge run myproject.web:api --host 0.0.0.0 --port 8080
"""

_RUN_EPILOG = """\
TARGET is "module" (serves its attribute "app") or "module:attribute", where
module may be dotted (pkg.mod) and attribute names an App object.

example:
  python -m databridge run examples.hello --port 8080
"""

T = TypeVar("T")

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class TargetError(Exception):
    """TARGET does not name an importable module with an App in it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and
    return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.command == "run":
        from ._deploy import run

        return run(args, argv[argv.index("run") + 1 :] if "run" in argv else [])
    return 2  # unreachable: argparse requires a command


def version_line() -> str:
    """``databridge 0.1.0 (go1.26.8, commit abc1234)``: the package version,
    and the Go version and commit the engine was built from (recorded by
    setup.py in ``databridge._build_info``; "unknown" when it did not)."""
    from ._version import __version__

    try:  # written by setup.py's build, not in git
        build_info = importlib.import_module(f"{__package__}._build_info")
    except ImportError:  # a source tree that setup.py has not built
        go_version = commit = "unknown"
    else:
        go_version = getattr(build_info, "GO_VERSION", None) or "unknown"
        commit = getattr(build_info, "COMMIT", None) or "unknown"
    return f"databridge {__version__} ({go_version}, commit {commit})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m databridge",
        description="databridge: a Python web framework served by a Go engine.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_line())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run = commands.add_parser(
        "run",
        help="serve an app until Ctrl+C or SIGTERM",
        description="Serve an app until Ctrl+C or SIGTERM, then finish the requests in flight and exit 0.",
        epilog=_RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("target", metavar="TARGET", help='the app to serve: "module" or "module:attribute"')
    run.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    run.add_argument(
        "--port", type=_port, default=8000, help="port to listen on; 0 picks a free one (default: %(default)s)"
    )
    run.add_argument(
        "--app-dir",
        default=".",
        metavar="DIR",
        help="directory put first on sys.path before importing TARGET (default: the current directory)",
    )
    run.add_argument(
        "--log-level",
        default="info",
        choices=_LOG_LEVELS,
        type=str.lower,
        help="logging level: %(choices)s (default: %(default)s)",
    )
    _add_server_flags(run)
    from ._deploy import add_deploy_flags, apply_environment

    add_deploy_flags(run)
    apply_environment(run)
    return parser


def _add_server_flags(run: argparse.ArgumentParser) -> None:
    """The engine's limits, timeouts and TLS, named as uvicorn names them
    where it has the setting (docs/http1.md lists them all)."""
    from ._settings import SETTINGS

    limits = run.add_argument_group("limits and timeouts")
    for setting in SETTINGS:
        limits.add_argument(
            setting.flag,
            dest=setting.name,
            type=_positive(setting.kind, zero_ok=setting.name == "max_requests_per_connection"),
            default=setting.default,
            metavar="N",
            help=f"{setting.help} (default: %(default)s)",
        )
    limits.add_argument(
        "--thread-pool-size",
        dest="thread_pool_size",
        type=_positive(int, zero_ok=True),
        default=None,
        metavar="N",
        help="threads that run sync (def) handlers, so one blocking delays no other request; "
        "0: every handler on the event loop thread (default: App(thread_pool_size=...), else 40)",
    )
    limits.add_argument(
        "--loop",
        dest="loop",
        type=_loop,
        default="auto",
        metavar="{auto,asyncio,uvloop}",
        help="the event loop handlers run on; auto: uvloop when installed, else asyncio (default: %(default)s)",
    )
    tls = run.add_argument_group("TLS and HTTP/2")
    tls.add_argument("--ssl-certfile", metavar="FILE", help="PEM certificate chain: serve HTTPS (TLS 1.2+)")
    tls.add_argument("--ssl-keyfile", metavar="FILE", help="PEM private key of --ssl-certfile")
    tls.add_argument("--ssl-keyfile-password", metavar="PASSWORD", help="password of an encrypted --ssl-keyfile")
    tls.add_argument(
        "--ssl-ca-certs", metavar="FILE", help="PEM CA certificates: require client certificates they signed (mTLS)"
    )
    tls.add_argument(
        "--http2",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve HTTP/2 (h2 by ALPN over TLS, h2c over cleartext) (default: on)",
    )


def _positive(kind: type, zero_ok: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < 0 or (value == 0 and not zero_ok):
            raise argparse.ArgumentTypeError(f"{text} must be {'0 or more' if zero_ok else 'positive'}")
        return value  # type: ignore[no-any-return]

    return parse


def _loop(text: str) -> str:
    from ._settings import check_loop

    try:
        return check_loop(text.strip().lower())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("databridge: ")) from None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def _run(args: argparse.Namespace, production: dict[str, object] | None = None,
         prepare: Callable[[object], None] | None = None) -> int:
    """Serve in this process (one worker; _deploy.run decides)."""
    from . import _init

    _init()
    from .app import App
    from .server import Server

    sys.path.insert(0, os.path.abspath(args.app_dir))
    try:
        app = load_app(args.target, App, factory=getattr(args, "factory", False))
    except TargetError as exc:
        print(f"databridge: error: {exc}", file=sys.stderr)
        return 2
    if production is None:
        logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    from ._settings import SETTINGS

    options = {s.name: getattr(args, s.name) for s in SETTINGS}
    try:
        server = Server(
            app,
            args.host,
            args.port,
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
            ssl_keyfile_password=args.ssl_keyfile_password,
            ssl_ca_certs=args.ssl_ca_certs,
            http2=args.http2,
            thread_pool_size=args.thread_pool_size,
            loop=args.loop,
            **options,
            **(production or {}),  # type: ignore[arg-type]
        )
    except (TypeError, ValueError) as exc:
        print(f"databridge: error: {exc}", file=sys.stderr)
        return 2
    if prepare is not None:
        prepare(server)
    try:
        server.run()
    except OSError as exc:
        print(f"databridge: error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # the engine refused a setting: an unreadable certificate, say
        print(f"databridge: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a second Ctrl+C while finishing requests
        print("databridge: interrupted", file=sys.stderr)
        return 130
    return 0


def load_app(target: str, app_type: type[T], factory: bool = False) -> T:
    """Import the object ``target`` names and check it is an ``app_type``.

    Raises TargetError when the module or attribute does not exist; an
    exception raised while the module runs propagates with its traceback.
    """
    module_name, colon, attribute = target.partition(":")
    if not colon:
        attribute = "app"
    if not module_name or module_name.startswith(".") or not attribute:
        raise TargetError(f'TARGET "{target}" must look like "module" or "module:attribute"')
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise TargetError(f'cannot import module "{module_name}" (no module named "{missing}")') from None
        raise  # the module exists but something it imports does not
    obj: object = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f'module "{module_name}" has no attribute "{attribute}"') from None
    if factory:
        if not callable(obj):
            raise TargetError(f'"{module_name}:{attribute}" is not callable (--factory)')
        obj = obj()
    if not isinstance(obj, app_type):
        raise TargetError(
            f'"{module_name}:{attribute}" is a {type(obj).__name__}, not a databridge {app_type.__name__}'
        )
    return obj
