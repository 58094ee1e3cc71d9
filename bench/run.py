#!/usr/bin/env python3
"""databridge benchmark suite: one command, every server, every scenario.

    python bench/run.py            # full run, about 17 minutes
    python bench/run.py --quick    # sanity run, under 3 minutes
    python bench/run.py --memory   # also the one-off RSS growth scenario

It prepares bench/.venv (peers pinned in bench/requirements.txt plus databridge
from the repo root), builds the pure-Go ceiling (bench/goserver), then for each
scenario and server: starts the server pinned to one CPU, checks one response,
warms it up, loads it with wrk pinned to the other CPU, reads its RSS, stops it.
Results go to bench/RESULTS.md and bench/results.json. See bench/README.md.

The runner is split in modules of the package bench: env.py (paths, helpers, the
venv, the builds), servers.py (the servers and their processes), wrk.py (the
scenarios, the checks, wrk and h2load) and report.py (goals, RESULTS.md,
results.json); this file measures and holds the command line.

Standard library only: it runs with any CPython >= 3.10 before the venv exists.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

# `python bench/run.py` puts bench/ first on sys.path; the modules are imported
# as the package bench (bench/env.py, servers.py, wrk.py, report.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.env import (
    BenchError,
    DATABRIDGE,
    DATABRIDGE_STAMP,
    GO,
    GOSERVER_BIN,
    MEMORY_LIMIT_S,
    Plan,
    VENV_DIR,
    VENV_PYTHON,
    build_goserver,
    ensure_venv,
    fmt_ms,
    fmt_num,
    install_databridge,
    install_peers,
    load_average,
    log,
    pick_cpus,
)
from bench.servers import (
    DATABRIDGE_SERVERS,
    SERVERS_BY_NAME,
    ServerProcess,
    ServerSpec,
)
from bench.wrk import (
    SCENARIOS_BY_NAME,
    Scenario,
    check_h2_response,
    check_response,
    check_tools,
    h2_tools_missing,
    run_h2load,
    run_wrk,
    run_wrk_count,
    warm_burst,
)
from bench.report import (
    Measurement,
    MemoryResult,
    write_reports,
)


def measure(server: ServerProcess, scenario: Scenario, plan: Plan) -> Measurement:
    """Check, warm up, load and read the RSS of a running server."""
    spec = server.spec
    result = Measurement(spec.name, scenario.name, "ok")
    h2 = scenario.tool == "h2load"
    try:
        if h2:
            missing = h2_tools_missing()
            if missing:
                raise BenchError(missing)
            problem = check_h2_response(server.port, scenario, result.notes)
        else:
            problem = check_response(server.port, scenario, result.notes, spec.name)
        if problem is not None:
            result.status, result.detail = "wrong", problem
            return result
        if h2:
            run_h2load(
                server.port, scenario, plan.warmup or None, plan.load_cpu, requests=200
            )
        elif plan.warmup > 0:
            run_wrk(server.port, scenario, plan.warmup, plan.load_cpu)
        else:
            warm_burst(server.port, scenario)
        for _ in range(plan.runs):
            result.runs.append(
                run_h2load(server.port, scenario, plan.duration, plan.load_cpu)
                if h2
                else run_wrk(server.port, scenario, plan.duration, plan.load_cpu)
            )
            if not server.alive():
                raise BenchError(f"died under load: {server.log_excerpt()}")
            if result.runs[-1].requests == 0:
                raise BenchError(
                    f"no response completed in a {plan.duration:g} s {scenario.tool} run"
                )
    except BenchError as error:
        result.status, result.detail = "failed", str(error)
        return result
    result.rss_mb, result.tree_rss_mb = server.rss_mb()
    result.summarize()
    total = sum(r.requests for r in result.runs)
    bad = sum(r.non_2xx for r in result.runs) if not scenario.errors_expected else 0
    sock = sum(r.socket_errors for r in result.runs)
    if bad:
        result.notes.append(
            f"{bad} non-2xx responses under load ({100 * bad / max(total, 1):.1f}%)"
        )
    if sock:
        result.notes.append(
            f"{sock} failed/errored/timed-out requests" if h2 else f"{sock} socket errors/timeouts"
        )
    if h2:
        result.notes.append("h2load: no latency percentiles")
    return result


def describe(result: Measurement) -> str:
    """One line for the console."""
    if result.status == "n/a":
        return f"n/a ({result.detail})"
    if result.status != "ok":
        return f"{result.status.upper()}: {result.detail}"
    spread = ""
    if len(result.runs) > 1 and result.rps:
        rates = [r.rps for r in result.runs]
        spread = f"  spread {100 * (max(rates) - min(rates)) / result.rps:4.1f}%"
    notes = f"  [{'; '.join(result.notes)}]" if result.notes else ""
    return (
        f"{fmt_num(result.rps):>9} rps  p50 {fmt_ms(result.p50_ms):>9}"
        f"  p99 {fmt_ms(result.p99_ms):>9}  RSS {fmt_num(result.rss_mb, 1):>6} MB"
        f"{spread}{notes}"
    )


def start_server(spec: ServerSpec, plan: Plan, tag: str) -> ServerProcess:
    server = ServerProcess(spec, plan.server_cpu, tag)
    try:
        server.start(plan.startup_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def not_applicable(spec: ServerSpec, scenario: Scenario) -> Measurement:
    return Measurement(spec.name, scenario.name, "n/a", scenario.not_applicable)


def run_restarting(
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    plan: Plan,
    broken: dict[str, str],
) -> dict[str, dict[str, Measurement]]:
    """Full mode: for every scenario, start each server in turn, measure, stop it."""
    results: dict[str, dict[str, Measurement]] = {s.name: {} for s in scenarios}
    for scenario in scenarios:
        log(f"\n== {scenario.title}")
        for spec in specs:
            if not spec.runs_scenario(scenario.name) or not scenario.has_row_for(spec.name):
                continue  # a variant made for another scenario, or no row wanted
            if not scenario.applies_to(spec.name):
                result = not_applicable(spec, scenario)
            elif spec.name in broken:
                result = Measurement(
                    spec.name, scenario.name, "failed", broken[spec.name]
                )
            else:
                try:
                    server = start_server(spec, plan, scenario.name)
                except BenchError as error:
                    result = Measurement(
                        spec.name, scenario.name, "failed", f"start: {error}"
                    )
                else:
                    try:
                        result = measure(server, scenario, plan)
                    finally:
                        server.stop()
            results[scenario.name][spec.name] = result
            log(f"  {spec.name:<13} {describe(result)}")
    return results


def run_reusing(
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    plan: Plan,
    broken: dict[str, str],
) -> dict[str, dict[str, Measurement]]:
    """Quick mode: one server process for all scenarios (its RSS accumulates)."""
    results: dict[str, dict[str, Measurement]] = {s.name: {} for s in scenarios}
    for spec in specs:
        own = [
            s for s in scenarios if spec.runs_scenario(s.name) and s.has_row_for(spec.name)
        ]
        if not own:
            continue
        log(f"\n== {spec.name}: {spec.description}")
        server: ServerProcess | None = None
        failure = broken.get(spec.name)
        try:
            for scenario in own:
                if not scenario.applies_to(spec.name):
                    result = not_applicable(spec, scenario)
                    results[scenario.name][spec.name] = result
                    log(f"  {scenario.name:<12} {describe(result)}")
                    continue
                if failure is None and (server is None or not server.alive()):
                    tag = "reuse" if server is None else f"reuse-{scenario.name}"
                    if server is not None:  # it died: start it again
                        server.stop()
                    try:
                        server = start_server(spec, plan, tag)
                    except BenchError as error:
                        failure = f"start: {error}"
                if failure is not None or server is None:
                    result = Measurement(
                        spec.name, scenario.name, "failed", failure or "not started"
                    )
                else:
                    result = measure(server, scenario, plan)
                results[scenario.name][spec.name] = result
                log(f"  {scenario.name:<12} {describe(result)}")
        finally:
            if server is not None:
                server.stop()
    return results


def run_memory(
    specs: list[ServerSpec], plan: Plan, broken: dict[str, str], steps: tuple[int, ...]
) -> list[MemoryResult]:
    """RSS after N echo requests (wrk stops itself after N responses, see echo.lua)."""
    scenario = SCENARIOS_BY_NAME["echo"]
    out: list[MemoryResult] = []
    for spec in specs:
        log(f"\n== memory: {spec.name}, echo requests to {steps[-1]:,}")
        if spec.name in broken:
            out.append(MemoryResult(spec.name, "failed", broken[spec.name]))
            log(f"  FAILED: {broken[spec.name]}")
            continue
        try:
            server = start_server(spec, plan, "memory")
        except BenchError as error:
            out.append(MemoryResult(spec.name, "failed", f"start: {error}"))
            log(f"  FAILED: start: {error}")
            continue
        result = MemoryResult(spec.name, "ok")
        try:
            problem = check_response(server.port, scenario)
            if problem is not None:
                result.status, result.detail = "wrong", problem
                continue
            result.rss_start_mb = server.rss_mb()[0]
            log(f"  after 1 request: RSS {fmt_num(result.rss_start_mb, 1)} MB")
            done = 1
            for target in steps:
                count = target - done
                if count <= 0:
                    continue
                started = time.monotonic()
                run = run_wrk_count(server.port, count, plan.load_cpu, MEMORY_LIMIT_S)
                done += run.requests
                main, tree = server.rss_mb()
                point = {
                    "requests": done,
                    "rss_mb": main,
                    "tree_rss_mb": tree,
                    "rps": run.rps,
                    "seconds": round(time.monotonic() - started, 1),
                }
                result.checkpoints.append(point)
                log(
                    f"  after {done:,} requests: RSS {fmt_num(main, 1)} MB ({run.rps:,.0f} rps)"
                )
                if not server.alive():
                    raise BenchError(f"died under load: {server.log_excerpt()}")
        except BenchError as error:
            result.status, result.detail = "failed", str(error)
        finally:
            server.stop()
            out.append(result)
            if result.status != "ok":
                log(f"  {result.status.upper()}: {result.detail}")
    return out


def parse_names(value: str, known: dict[str, Any], what: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})"
        )
    return names


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 runs × 0.7 s, no wrk warm-up, one process per server (< 3 min)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        help="seconds per wrk run, fractions allowed (default 5; quick 0.7)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        help="wrk runs per server and scenario, median reported (default 3)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help="seconds of wrk warm-up; 0 = a 200-request burst (default 2; quick 0)",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda v: parse_names(v, SCENARIOS_BY_NAME, "scenario"),
        default=list(SCENARIOS_BY_NAME),
        help="comma-separated subset of: " + ",".join(SCENARIOS_BY_NAME),
    )
    parser.add_argument(
        "--servers",
        type=lambda v: parse_names(v, SERVERS_BY_NAME, "server"),
        default=list(SERVERS_BY_NAME),
        help="comma-separated subset of: " + ",".join(SERVERS_BY_NAME),
    )
    parser.add_argument(
        "--reuse-server",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start each server once for all scenarios (default: only with --quick)",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also run the RSS growth scenario (not with --quick)",
    )
    parser.add_argument(
        "--memory-only", action="store_true", help="run only the RSS growth scenario"
    )
    parser.add_argument(
        "--memory-servers",
        type=lambda v: parse_names(v, SERVERS_BY_NAME, "server"),
        default=[DATABRIDGE],
        help="servers for the memory scenario (default: databridge)",
    )
    parser.add_argument(
        "--memory-requests",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[10_000, 1_000_000],
        help="RSS checkpoints, in echo requests (default 10000,1000000)",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="use bench/.venv as it is (no pip, no go build)",
    )
    parser.add_argument(
        "--reinstall",
        action="store_true",
        help="reinstall peers and databridge even if unchanged",
    )
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for a server's port",
    )
    args = parser.parse_args(argv)
    if args.quick and (args.memory or args.memory_only):
        parser.error(
            "the memory scenario is not part of --quick; run it without --quick"
        )
    if args.duration is not None and args.duration < 0.2:
        parser.error("--duration must be at least 0.2 (seconds)")
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.warmup is not None and args.warmup < 0:
        parser.error("--warmup cannot be negative")
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    server_cpu, load_cpu = pick_cpus()
    return Plan(
        duration=args.duration or (0.7 if args.quick else 5),
        runs=args.runs or 3,
        warmup=args.warmup if args.warmup is not None else (0 if args.quick else 2),
        reuse_server=args.reuse_server if args.reuse_server is not None else args.quick,
        startup_timeout=args.startup_timeout,
        server_cpu=server_cpu,
        load_cpu=load_cpu,
    )


def prepare(specs: list[ServerSpec], args: argparse.Namespace) -> dict[str, str]:
    """venv, peers, databridge, goserver. Returns {server: why it cannot run}."""
    broken: dict[str, str] = {}
    names = {spec.name for spec in specs}
    ours = names & set(DATABRIDGE_SERVERS)  # servers that run the databridge checkout
    if args.no_install:
        if not VENV_PYTHON.exists():
            raise SystemExit(f"error: --no-install but {VENV_DIR} does not exist")
        if ours and not DATABRIDGE_STAMP.exists():
            for name in ours:
                broken[name] = "not installed in bench/.venv (run without --no-install)"
    else:
        ensure_venv()
        # databridge's app needs pydantic (pinned there too) for scenario 8.
        if names - {GO}:
            install_peers(args.reinstall)
        if ours:
            problem = install_databridge(args.reinstall)
            if problem:
                for name in ours:
                    broken[name] = problem
    if GO in names:
        if args.no_install and GOSERVER_BIN.exists():
            pass
        else:
            problem = build_goserver()
            if problem:
                broken[GO] = problem
    return broken


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = shlex.join(
        ["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)]
    )
    check_tools()
    plan = make_plan(args)
    memory_names = args.memory_servers if (args.memory or args.memory_only) else []
    specs = [SERVERS_BY_NAME[n] for n in SERVERS_BY_NAME if n in args.servers]
    memory_specs = [SERVERS_BY_NAME[n] for n in SERVERS_BY_NAME if n in memory_names]
    scenarios = (
        []
        if args.memory_only
        else [SCENARIOS_BY_NAME[n] for n in SCENARIOS_BY_NAME if n in args.scenarios]
    )

    started = time.monotonic()
    load_before = load_average()
    if load_before > 1.0:
        log(
            f"warning: the machine is busy (1-minute load average {load_before:.2f}); numbers will be noisy"
        )
    broken = prepare(list({s.name: s for s in specs + memory_specs}.values()), args)
    pairs = sum(
        s.applies_to(spec.name) and spec.runs_scenario(s.name)
        for s in scenarios
        for spec in specs
    )
    starts = (
        sum(any(spec.runs_scenario(s.name) for s in scenarios) for spec in specs)
        if plan.reuse_server
        else pairs
    )
    estimate = (
        pairs * (plan.warmup + plan.runs * (plan.duration + 0.05) + 0.2) + starts * 0.8
    )
    log(
        f"\n{len(scenarios)} scenarios × {len(specs)} servers ({pairs} pairs that apply),"
        f" {plan.runs} runs × {plan.duration:g} s, "
        f"warm-up {plan.warmup:g} s: about {estimate / 60:.1f} min of load"
        + (
            f" (+ memory scenario for {', '.join(memory_names)})"
            if memory_names
            else ""
        )
    )
    for name, problem in broken.items():
        log(f"  {name}: will be reported as failed: {problem}")

    runner = run_reusing if plan.reuse_server else run_restarting
    results = runner(specs, scenarios, plan, broken) if scenarios else {}
    memory = (
        run_memory(memory_specs, plan, broken, tuple(args.memory_requests))
        if memory_specs
        else []
    )
    write_reports(load_before, command, plan, specs, scenarios, results, memory)
    log(f"total time {time.monotonic() - started:.0f} s")
    return 0


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl+C, so the running server is stopped on the way out."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
