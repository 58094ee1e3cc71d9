"""``python -m databridge run`` in production (issue #11): workers, sockets,
the access log, logging, backpressure, proxies, metrics, reload.

Nothing here imports ``databridge._core`` or the app: with ``--workers N``
(N > 1) or ``--reload`` this process is a supervisor that spawns fresh
interpreters (supervisor.py); otherwise it serves itself (cli._run).
Every flag also reads ``DATABRIDGE_<NAME>`` (``--workers`` from
DATABRIDGE_WORKERS, ``--no-access-log`` as DATABRIDGE_ACCESS_LOG=0); a
flag on the command line wins.
"""

from __future__ import annotations

import argparse
import json
import logging
import logging.config
import os
import socket
import sys
import threading
from typing import Any

from ._production import ACCESS_LOG_FORMATS
from ._sockets import DEFAULT_BACKLOG, bind, describe, systemd_fds

__all__ = ["add_deploy_flags", "apply_environment", "run"]

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _nonneg(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
        return value

    return parse


def _octal(text: str) -> int:
    try:
        return int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode such as 660") from None


def add_deploy_flags(run: argparse.ArgumentParser) -> None:
    w = run.add_argument_group("workers (the supervisor spawns fresh interpreters sharing the socket)")
    w.add_argument("--workers", type=_nonneg(int), default=1, metavar="N",
                   help="worker processes (default: %(default)s: serve in this process)")
    w.add_argument("--workers-max-requests", type=_nonneg(int), default=0, metavar="N",
                   help="recycle a worker after N requests; 0: never (default: %(default)s)")
    w.add_argument("--workers-max-requests-jitter", type=_nonneg(int), default=0, metavar="N",
                   help="add 0..N to --workers-max-requests per worker (default: %(default)s)")
    w.add_argument("--workers-lifetime", type=_nonneg(float), default=0.0, metavar="SECONDS",
                   help="recycle a worker after it served that long; 0: never (default: %(default)s)")
    w.add_argument("--workers-max-rss", type=_nonneg(float), default=0.0, metavar="MB",
                   help="recycle a worker whose resident memory passes MB; 0: never (default: %(default)s)")
    w.add_argument("--workers-kill-timeout", type=_nonneg(float), default=5.0, metavar="SECONDS",
                   help="kill a stopping worker this long after its graceful timeout (default: %(default)s)")
    w.add_argument("--worker-fd", type=int, default=None, help=argparse.SUPPRESS)

    s = run.add_argument_group("sockets")
    s.add_argument("--uds", metavar="PATH", help="serve on a Unix domain socket at PATH instead of host:port")
    s.add_argument("--uds-permissions", type=_octal, metavar="MODE", help="chmod the --uds socket (octal: 660)")
    s.add_argument("--fd", type=int, metavar="N",
                   help="serve the listening socket inherited as fd N (systemd socket activation: LISTEN_FDS "
                        "is used when no --fd is given)")
    s.add_argument("--backlog", type=_nonneg(int), default=DEFAULT_BACKLOG, metavar="N",
                   help="listen backlog of a socket bound here (default: %(default)s)")

    lg = run.add_argument_group("logging")
    lg.add_argument("--log-config", metavar="FILE",
                    help="logging.dictConfig file, JSON or YAML (.yaml/.yml); wins over --log-level")
    lg.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=False,
                    help="log every request to stdout, written by the engine off the GIL (default: off, as "
                         "Granian; costs a few %% of a hello's throughput)")
    lg.add_argument("--access-log-format", choices=ACCESS_LOG_FORMATS, default="combined",
                    help="access log line format: %(choices)s (default: %(default)s)")

    p = run.add_argument_group("backpressure and proxies")
    p.add_argument("--limit-concurrency", type=_nonneg(int), default=0, metavar="N",
                   help="answer 503 with Retry-After once N requests are in flight; also bounds the queue to "
                        "Python at N calls; 0: no limit (default: %(default)s)")
    p.add_argument("--proxy-headers", action=argparse.BooleanOptionalAction, default=False,
                   help="trust X-Forwarded-For/Proto/Host and Forwarded from --forwarded-allow-ips (default: off)")
    p.add_argument("--forwarded-allow-ips", default="127.0.0.1", metavar="IPS",
                   help='comma-separated proxy IPs or CIDRs to trust, "*" for all (default: %(default)s)')
    p.add_argument("--root-path", default="", metavar="PATH",
                   help="the prefix a proxy mounts the app under; stripped from paths before routing")

    m = run.add_argument_group("metrics (Prometheus)")
    m.add_argument("--metrics", action=argparse.BooleanOptionalAction, default=False,
                   help="serve /metrics on the main port (default: off)")
    m.add_argument("--metrics-port", type=_nonneg(int), default=0, metavar="PORT",
                   help="serve /metrics on its own port (on --host); 0: not (default: %(default)s)")

    r = run.add_argument_group("development")
    r.add_argument("--reload", action=argparse.BooleanOptionalAction, default=False,
                   help="restart the workers when a watched file changes (watchfiles)")
    r.add_argument("--reload-dir", action="append", default=None, metavar="DIR",
                   help="directory to watch (repeatable; default: --app-dir)")
    r.add_argument("--reload-include", action="append", default=None, metavar="GLOB",
                   help='file names to watch (repeatable; default: "*.py")')
    r.add_argument("--reload-exclude", action="append", default=None, metavar="GLOB",
                   help='file names not to watch (repeatable; default: ".*, *.pyc, __pycache__")')
    r.add_argument("--factory", action=argparse.BooleanOptionalAction, default=False,
                   help="TARGET is a callable that returns the app")


def apply_environment(parser: argparse.ArgumentParser) -> None:
    """Defaults from DATABRIDGE_<DEST> for every optional flag of ``parser``."""
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "worker_fd"):
            continue
        text = os.environ.get("DATABRIDGE_" + action.dest.upper())
        if text is None:
            continue
        if isinstance(action, argparse.BooleanOptionalAction) or action.nargs == 0:
            low = text.strip().lower()
            if low not in _TRUE | _FALSE:
                parser.error(f"DATABRIDGE_{action.dest.upper()}={text!r} is not a boolean")
            action.default = low in _TRUE
        elif isinstance(action, argparse._AppendAction):
            action.default = [t for t in text.split(os.pathsep) if t]
        else:
            try:
                action.default = action.type(text) if callable(action.type) else text
            except (argparse.ArgumentTypeError, ValueError) as exc:
                parser.error(f"DATABRIDGE_{action.dest.upper()}: {exc}")


def setup_logging(args: argparse.Namespace) -> None:
    """``--log-config`` (dictConfig) when given; else ``--log-level`` on
    databridge's own loggers, with their own stderr handler. The root
    logger is left to the app."""
    if args.log_config:
        with open(args.log_config) as f:
            text = f.read()
        if args.log_config.endswith((".yaml", ".yml")):
            import yaml  # type: ignore[import-untyped]

            config = yaml.safe_load(text)
        else:
            config = json.loads(text)
        logging.config.dictConfig(config)
        return
    own = logging.getLogger("databridge")
    if not any(getattr(h, "_databridge", False) for h in own.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._databridge = True  # type: ignore[attr-defined]
        own.addHandler(handler)
    own.setLevel(args.log_level.upper())
    own.propagate = False


def production_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {
        "access_log": args.access_log,
        "access_log_format": args.access_log_format,
        "limit_concurrency": args.limit_concurrency,
        "proxy_headers": args.proxy_headers,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "root_path": args.root_path,
    }
    if args.metrics:
        out["metrics"] = True
    if args.metrics_port:
        out["metrics_port"] = args.metrics_port
        out["metrics_host"] = args.host
    return out


def _listening_socket(args: argparse.Namespace) -> socket.socket | None:
    """The socket the command line binds, or None to let the engine bind
    host:port itself (one process, no --uds/--fd/--backlog)."""
    fd = args.fd
    if fd is None and (fds := systemd_fds()):
        fd = fds[0]
    needs_own = args.workers > 1 or args.reload or args.uds or fd is not None or args.backlog != DEFAULT_BACKLOG
    if not needs_own:
        return None
    return bind(args.host, args.port, uds=args.uds, uds_permissions=args.uds_permissions, fd=fd,
                backlog=args.backlog)


def run(args: argparse.Namespace, run_argv: list[str]) -> int:
    from .cli import _run

    try:
        setup_logging(args)
    except (OSError, ValueError, TypeError, ImportError) as exc:
        print(f"databridge: error: --log-config {args.log_config}: {exc}", file=sys.stderr)
        return 2
    production = production_kwargs(args)
    if args.worker_fd is not None:  # one worker of a supervisor
        if args.metrics_port:  # the supervisor serves them all on --metrics-port
            production |= {"metrics_port": -1, "metrics_host": "127.0.0.1"}
        return _run(args, production | {"fd": args.fd, "control_fd": args.worker_fd,
                                        "max_requests": args.workers_max_requests},
                    prepare=lambda server: _as_worker(server, args.worker_fd))
    try:
        sock = _listening_socket(args)
    except OSError as exc:
        where = args.uds or f"{args.host}:{args.port}"
        print(f"databridge: error: cannot serve on {where}: {exc}", file=sys.stderr)
        return 1
    if sock is not None and (args.workers > 1 or args.reload):
        return _supervise(args, run_argv, sock)
    if sock is not None:
        production["fd"] = sock.detach()
        url = describe_fd(production["fd"], args.ssl_certfile is not None)
        try:
            return _run(args, production, prepare=lambda server: setattr(server, "display_url", url))
        finally:
            if args.uds:
                try:
                    os.unlink(args.uds)
                except OSError:
                    pass
    return _run(args, production)


def describe_fd(fd: int, ssl: bool) -> str:
    s = socket.socket(fileno=os.dup(fd))
    try:
        return describe(s, ssl)
    finally:
        s.close()


def _as_worker(server: Any, control_fd: int) -> None:
    control = socket.socket(fileno=control_fd)
    server.worker = True

    def ready() -> None:
        control.sendall(b"ready\n")

    def watch() -> None:  # EOF: the supervisor is gone; stop gracefully
        import signal

        try:
            while control.recv(64):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    server.on_ready = ready
    threading.Thread(target=watch, name="databridge-control", daemon=True).start()


def _supervise(args: argparse.Namespace, run_argv: list[str], sock: socket.socket) -> int:
    from ._production import describe_setup
    from .supervisor import Supervisor, SupervisorOptions

    url = describe(sock, args.ssl_certfile is not None)
    options = SupervisorOptions(
        workers=max(1, args.workers),
        max_requests=args.workers_max_requests,
        max_requests_jitter=args.workers_max_requests_jitter,
        lifetime=args.workers_lifetime,
        max_rss_mb=args.workers_max_rss,
        kill_timeout=args.workers_kill_timeout,
        graceful_timeout=args.timeout_graceful_shutdown,
    )
    print(describe_setup(url, options.workers, args.ssl_certfile is not None, args.http2,
                         production_kwargs(args)), file=sys.stderr, flush=True)
    supervisor = Supervisor(run_argv, sock, options, url)
    if args.metrics_port:
        from .supervisor import serve_metrics

        serve_metrics(supervisor, args.host, args.metrics_port)
    if args.reload:
        from .reload import watch

        watch(supervisor, args)
    try:
        return supervisor.run()
    finally:
        sock.close()
        if args.uds:
            try:
                os.unlink(args.uds)
            except OSError:
                pass
