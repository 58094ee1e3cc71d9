"""The scenarios, the one-request correctness checks, and the load generators:
wrk for HTTP/1.1, h2load (checked with nghttp) for HTTP/2.

Part of bench/run.py (see bench/README.md). Standard library only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import re
import shlex
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.env import (
    BenchError,
    DATABRIDGE,
    DELETE_LUA,
    ECHO_LUA,
    GO,
    GRANIAN_H2,
    H2_INSTALL_HINT,
    HOST,
    ROUTES_BIG,
    ROUTES_ONE,
    USERS_LUA,
    log,
)


# Mirrors bench/apps/_common.py (kept literal here: run.py must not import the apps).
TEXT_10K = "0123456789abcdef" * 640
SLEEP_SECONDS = 0.001
# The body of the validated scenario, exactly as bench/users.lua sends it.
USERS_BODY = b'{"name": "Ada Lovelace", "age": 36, "email": "ada@example.com"}'
# Servers with a validation layer: the validated and invalid scenarios run only
# on these (the Go server checks by hand); the others are reported as n/a.
VALIDATING_SERVERS = (DATABRIDGE, GO, "fastapi")


def echo_body() -> bytes:
    """The 1024-byte JSON body of the echo scenario, byte for byte as bench/echo.lua builds it."""
    items = ",".join(f'{{"n":{i},"v":"value-{i}","ok":true}}' for i in range(10))
    head = (
        '{"id":1,"name":"databridge","tags":["bench","echo","json"],"items":['
        + items
        + '],"pad":"'
    )
    tail = '"}'
    return (head + "x" * (1024 - len(head) - len(tail)) + tail).encode()


@dataclass(frozen=True)
class Scenario:
    """One request shape, the same in every server.

    ``servers``: the servers that implement it (None: all); the others are
    reported as n/a with ``not_applicable``. The body is compared
    (``expected_json``, ``expected_text``, ``expected_contains``) only for the
    servers in ``body_checked_for`` (None: all); the others only by status.
    """

    name: str
    title: str
    method: str
    path: str
    connections: int = 64
    expected_status: int = 200
    expected_json: Any = None
    expected_text: str | None = None
    expected_contains: str | None = None
    body: bytes | None = None
    lua: Path | None = None
    servers: tuple[str, ...] | None = None
    not_applicable: str = ""
    body_checked_for: tuple[str, ...] | None = None
    # "wrk" (HTTP/1.1) or "h2load" (HTTP/2, h2c with prior knowledge)
    tool: str = "wrk"
    # The server whose RPS is divided by each row's in the ratio column.
    ours: str = DATABRIDGE
    # Servers it does not apply to get no row (instead of an n/a row): for the
    # scenarios of databridge's own features, where n/a for every peer says nothing.
    rows_only_if_applies: bool = False

    def has_row_for(self, server: str) -> bool:
        return self.applies_to(server) or not self.rows_only_if_applies

    @property
    def errors_expected(self) -> bool:
        """True when every response is supposed to be non-2xx (wrk counts them)."""
        return self.expected_status >= 300

    def applies_to(self, server: str) -> bool:
        return self.servers is None or server in self.servers

    def checks_body_of(self, server: str) -> bool:
        return self.body_checked_for is None or server in self.body_checked_for


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "hello",
        "1. GET /hello (sync handler)",
        "GET",
        "/hello",
        expected_json={"message": "hello"},
    ),
    Scenario(
        "hello_async",
        "2. GET /hello-async (async handler, no await)",
        "GET",
        "/hello-async",
        expected_json={"message": "hello"},
    ),
    Scenario(
        "params",
        "3. GET /users/42?page=2 (path + query, int converter)",
        "GET",
        "/users/42?page=2",
        expected_json={"id": 42, "page": "2"},
    ),
    Scenario(
        "echo",
        "4. POST /echo (1 KB JSON body, echoed)",
        "POST",
        "/echo",
        expected_json=json.loads(echo_body()),
        body=echo_body(),
        lua=ECHO_LUA,
    ),
    Scenario(
        "sleep",
        "5. GET /sleep (await asyncio.sleep(0.001), 256 connections)",
        "GET",
        "/sleep",
        connections=256,
        expected_json={"ok": True},
    ),
    Scenario(
        "text10k",
        "6. GET /10k (10 KB text/plain)",
        "GET",
        "/10k",
        expected_text=TEXT_10K,
    ),
    Scenario(
        "notfound",
        "7. GET /users/abc (404 from the int converter)",
        "GET",
        "/users/abc",
        expected_status=404,
    ),
    Scenario(
        "validated",
        "8. POST /users (JSON body validated by a pydantic model, 201)",
        "POST",
        "/users",
        expected_status=201,
        expected_json={"name": "Ada Lovelace"},
        body=USERS_BODY,
        lua=USERS_LUA,
        servers=VALIDATING_SERVERS,
        not_applicable="no validation layer",
    ),
    Scenario(
        "invalid",
        "9. GET /search?q=x&limit=500 (limit > le=100: 422)",
        "GET",
        "/search?q=x&limit=500",
        expected_status=422,
        expected_contains='"less_than_equal"',
        servers=VALIDATING_SERVERS,
        not_applicable="no validation layer",
        body_checked_for=(DATABRIDGE, GO),  # FastAPI's 422 body has its own shape
    ),
    Scenario(
        "go_hello",
        "10. GET /go/hello (Go-only route: add_fixed_response, no Python)",
        "GET",
        "/go/hello",
        expected_json={"message": "hello"},
        servers=(DATABRIDGE, GO),
        not_applicable="databridge's Go-only route",
        rows_only_if_applies=True,
    ),
    Scenario(
        "routes",
        "11. DELETE /user/keys/42 (last of the 203 GitHub API routes vs a 1-route app)",
        "DELETE",
        "/user/keys/42",
        expected_json={"route": "DELETE /user/keys/{id}", "params": {"id": "42"}},
        lua=DELETE_LUA,
        servers=(ROUTES_BIG, ROUTES_ONE),
        not_applicable="databridge route-table apps only",
        ours=ROUTES_BIG,
        rows_only_if_applies=True,
    ),
    Scenario(
        "h2_hello",
        "12. GET /hello over HTTP/2 (h2c prior knowledge, h2load -c64 -m10)",
        "GET",
        "/hello",
        expected_json={"message": "hello"},
        servers=(DATABRIDGE, GO, GRANIAN_H2),
        not_applicable="HTTP/2 scenario",
        tool="h2load",
        rows_only_if_applies=True,
    ),
)
SCENARIOS_BY_NAME = {s.name: s for s in SCENARIOS}


@dataclass
class WrkRun:
    """What one wrk run reported."""

    rps: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    non_2xx: int
    socket_errors: int


def check_tools() -> None:
    """wrk and taskset are required; say how to get them."""
    if shutil.which("wrk") is None:
        raise SystemExit(
            "error: `wrk` is not installed (it generates the load).\n"
            "       Install it with:  sudo apt-get install -y wrk   (Debian/Ubuntu)"
        )
    missing = h2_tools_missing()
    if missing:
        log(f"warning: the HTTP/2 scenario (h2_hello) will be reported as failed: {missing}")
    if shutil.which("taskset") is None:
        raise SystemExit(
            "error: `taskset` is not installed; it is in util-linux (sudo apt-get install -y util-linux)"
        )


def check_response(
    port: int, scenario: Scenario, notes: list[str] | None = None, server: str = ""
) -> str | None:
    """One urllib request; None when status and body are right, else what is wrong.

    The status must be the scenario's ``expected_status`` (200, 201, 404, 422...);
    the body is compared only when the scenario checks ``server``'s body.
    A Content-Type other than the expected one is not "wrong" (the issue compares status
    and body) but is added to ``notes``.

    Raises BenchError on a 501 the scenario does not expect: the app says it cannot
    serve the scenario (databridge's app without the validation API), so the server
    is reported as failed, not wrong.
    """
    url = f"http://{HOST}:{port}{scenario.path}"
    headers = {"Content-Type": "application/json"} if scenario.body is not None else {}
    request = urllib.request.Request(
        url, data=scenario.body, method=scenario.method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, body, ctype = (
                response.status,
                response.read(),
                response.headers.get("Content-Type", ""),
            )
    except urllib.error.HTTPError as error:
        status, body, ctype = (
            error.code,
            error.read(),
            error.headers.get("Content-Type", ""),
        )
    except (urllib.error.URLError, OSError) as error:
        return f"request failed: {error}"
    if status == 501 and scenario.expected_status != 501:
        try:
            reason = json.loads(body).get("detail") or body.decode(errors="replace")
        except (ValueError, AttributeError):
            reason = body.decode(errors="replace")
        raise BenchError(
            f"the app cannot serve this scenario (501): {str(reason)[:400]}"
        )
    if status != scenario.expected_status:
        return f"status {status}, expected {scenario.expected_status} (body {body[:120]!r})"
    if not scenario.checks_body_of(server):
        return None
    if (
        scenario.expected_contains is not None
        and scenario.expected_contains.encode() not in body
    ):
        return f"body {body[:160]!r} does not contain {scenario.expected_contains}"
    if scenario.expected_json is not None:
        try:
            got = json.loads(body)
        except ValueError:
            return f"body is not JSON: {body[:120]!r}"
        if got != scenario.expected_json:
            return f"body {json.dumps(got)[:160]}, expected {json.dumps(scenario.expected_json)[:160]}"
    if (
        scenario.expected_text is not None
        and body.decode(errors="replace") != scenario.expected_text
    ):
        return f"body of {len(body)} bytes differs from the expected {len(scenario.expected_text)}-byte text"
    wanted = (
        "application/json"
        if scenario.expected_json is not None or scenario.expected_contains is not None
        else "text/plain"
        if scenario.expected_text
        else ""
    )
    if notes is not None and wanted and not ctype.lower().startswith(wanted):
        notes.append(f"Content-Type {ctype or 'missing'!r}, expected {wanted}")
    return None


def warm_burst(port: int, scenario: Scenario, count: int = 200) -> None:
    """A short keep-alive burst: the warm-up when --warmup is 0."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    headers = {"Content-Type": "application/json"} if scenario.body is not None else {}
    try:
        for _ in range(count):
            connection.request(
                scenario.method, scenario.path, body=scenario.body, headers=headers
            )
            connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        pass
    finally:
        connection.close()


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse_wrk(output: str) -> WrkRun:
    """rps, p50/p99 (ms), request and error counts from ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        raise BenchError(f"could not parse wrk output: {output.strip()[-300:]!r}")
    percentiles: dict[str, float] = {}
    for pct, value, unit in re.findall(
        r"^\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE
    ):
        percentiles[pct] = float(value) * _UNIT_MS[unit]
    requests = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkRun(
        rps=float(rps.group(1)),
        p50_ms=percentiles.get("50"),
        p99_ms=percentiles.get("99"),
        requests=int(requests.group(1)) if requests else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sock.groups()) if sock else 0,
    )


@contextlib.contextmanager
def wrk_process(argv: list[str]) -> Iterator[subprocess.Popen[str]]:
    """Start wrk; kill it if anything (an error, Ctrl+C, SIGTERM) interrupts us."""
    wrk = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield wrk
    except BaseException:
        wrk.kill()
        wrk.communicate()
        raise


def run_wrk(
    port: int,
    scenario: Scenario,
    duration: float,
    cpu: int,
) -> WrkRun:
    """``taskset -c CPU wrk -t1 -cN -dDs --latency [-s SCRIPT.lua] URL``.

    wrk only takes whole seconds; for a fractional ``duration`` it is started with a
    longer -d and sent SIGINT on time, on which it stops and prints its usual report
    (rates use the real elapsed time).
    """
    whole = float(duration).is_integer()
    argv = ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{scenario.connections}"]
    argv += [f"-d{int(duration) if whole else math.ceil(duration) + 5}s", "--latency"]
    if scenario.lua is not None:
        argv += ["-s", str(scenario.lua)]
    argv.append(f"http://{HOST}:{port}{scenario.path}")
    for attempt in (1, 2):
        with wrk_process(argv) as wrk:
            try:
                out, err = wrk.communicate(timeout=duration + 60 if whole else duration)
            except subprocess.TimeoutExpired:
                if whole:  # wrk should have stopped by itself long ago
                    raise BenchError(f"wrk did not finish: {shlex.join(argv)}") from None
                wrk.send_signal(signal.SIGINT)
                try:
                    out, err = wrk.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    raise BenchError(f"wrk ignored SIGINT: {shlex.join(argv)}") from None
        # Killed by our SIGINT: it came before wrk had set up its handler (seen on a
        # busy machine, where wrk took longer than the run to start). Once more.
        if wrk.returncode == -signal.SIGINT and attempt == 1:
            log("  (wrk was interrupted before it started measuring; running it again)")
            continue
        if wrk.returncode != 0:
            message = err.strip()[-300:] or out.strip()[-300:]
            if wrk.returncode == -signal.SIGINT:
                message = "interrupted twice before it started measuring (machine busy?)"
            raise BenchError(f"wrk failed ({wrk.returncode}): {message}")
        run = parse_wrk(out)
        # A short run on a busy machine can end before any response came back from a
        # server that answers fine otherwise (seen at load average 14). Once more.
        if run.requests == 0 and attempt == 1:
            log("  (wrk completed no request; running it again)")
            continue
        return run
    raise AssertionError("unreachable")


def h2_tools_missing() -> str | None:
    """Why the HTTP/2 scenario cannot run here (None: h2load and nghttp are installed)."""
    missing = [tool for tool in ("h2load", "nghttp") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed ({H2_INSTALL_HINT})"
    return None


def check_h2_response(
    port: int, scenario: Scenario, notes: list[str] | None = None
) -> str | None:
    """One request with nghttp (h2c prior knowledge); None when status and body are right.

    Raises BenchError when no HTTP/2 response came back at all (the server does not
    speak h2c with prior knowledge): that is a failure, not a wrong answer.
    """
    url = f"http://{HOST}:{port}{scenario.path}"
    try:
        done = subprocess.run(
            ["nghttp", "-v", url], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"nghttp failed: {error}") from None
    out = done.stdout + done.stderr
    status = re.search(r"\brecv \(stream_id=\d+\) :status: (\d+)", out)
    if status is None:
        errors = [x.strip() for x in out.splitlines() if "ERROR" in x or "not processed" in x]
        raise BenchError(
            "no HTTP/2 response to h2c with prior knowledge (nghttp: "
            + ("; ".join(errors)[:300] or out.strip()[-300:])
            + ")"
        )
    if int(status.group(1)) != scenario.expected_status:
        return f"status {status.group(1)}, expected {scenario.expected_status} (over HTTP/2)"
    try:
        body = subprocess.run(
            ["nghttp", url], capture_output=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"nghttp failed: {error}"
    if scenario.expected_json is not None:
        try:
            got = json.loads(body)
        except ValueError:
            return f"body is not JSON: {body[:120]!r}"
        if got != scenario.expected_json:
            return f"body {json.dumps(got)[:160]}, expected {json.dumps(scenario.expected_json)[:160]}"
    ctype = re.search(r"\brecv \(stream_id=\d+\) content-type: (.*)$", out, re.MULTILINE)
    if notes is not None and scenario.expected_json is not None and not (
        ctype and ctype.group(1).strip().lower().startswith("application/json")
    ):
        notes.append(f"Content-Type {ctype.group(1).strip() if ctype else 'missing'!r}, expected application/json")
    return None


def parse_h2load(output: str) -> WrkRun:
    """rps and counts from h2load's report (it prints no latency percentiles)."""
    rps = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", output)
    counts = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
        r"(\d+) failed, (\d+) errored, (\d+) timeout",
        output,
    )
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
    if rps is None or counts is None:
        raise BenchError(f"could not parse h2load output: {output.strip()[-300:]!r}")
    done = int(counts.group(3))
    failed, errored, timeouts = (int(counts.group(i)) for i in (5, 6, 7))
    return WrkRun(
        rps=float(rps.group(1)),
        p50_ms=None,
        p99_ms=None,
        requests=done,
        non_2xx=sum(int(codes.group(i)) for i in (2, 3, 4)) if codes else 0,
        socket_errors=failed + errored + timeouts,
    )


def run_h2load(
    port: int,
    scenario: Scenario,
    duration: float | None,
    cpu: int,
    requests: int = 0,
) -> WrkRun:
    """``taskset -c CPU h2load -cN -m10 -D<duration> URL`` (or ``-n REQUESTS``).

    h2load speaks h2c with prior knowledge on http:// URLs; -D takes milliseconds,
    so fractional durations need no SIGINT.
    """
    argv = ["taskset", "-c", str(cpu), "h2load", f"-c{scenario.connections}", "-m10"]
    if duration is None:
        argv += [f"-n{max(requests, scenario.connections)}"]
        limit = 60.0
    else:
        argv += [f"-D{max(1, round(duration * 1000))}ms"]
        limit = duration + 60
    argv.append(f"http://{HOST}:{port}{scenario.path}")
    for attempt in (1, 2):
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=limit, check=False
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"h2load did not finish: {shlex.join(argv)}") from None
        if done.returncode != 0:
            message = done.stderr.strip()[-300:] or done.stdout.strip()[-300:]
            raise BenchError(f"h2load failed ({done.returncode}): {message}")
        run = parse_h2load(done.stdout)
        # A short timed run on a busy machine can end before any stream completed
        # (seen at load average 12, on servers that answer fine otherwise). Once more.
        if run.requests or attempt == 2:
            return run
        log("  (h2load completed no request; running it again)")
    return run


ECHO_DONE_MARKER = "echo.lua: done"


def run_wrk_count(port: int, count: int, cpu: int, limit: int) -> WrkRun:
    """wrk with echo.lua stopping after ``count`` responses (or ``limit`` seconds)."""
    scenario = SCENARIOS_BY_NAME["echo"]
    argv = ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{scenario.connections}"]
    argv += [f"-d{limit}s", "-s", str(ECHO_LUA), f"http://{HOST}:{port}{scenario.path}"]
    argv += ["--", str(count)]
    with wrk_process(argv) as wrk:
        assert wrk.stdout is not None
        head: list[str] = []
        for line in wrk.stdout:  # ends at the marker, or at EOF when -d ran out
            head.append(line)
            if line.startswith(ECHO_DONE_MARKER):
                wrk.send_signal(signal.SIGINT)
                break
        try:
            out, err = wrk.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raise BenchError(f"wrk did not stop: {shlex.join(argv)}") from None
    if wrk.returncode != 0:
        raise BenchError(f"wrk failed ({wrk.returncode}): {err.strip()[-300:]}")
    return parse_wrk("".join(head) + out)
