"""Results, the goals of issue #8, and RESULTS.md / results.json.

Part of bench/run.py (see bench/README.md). Standard library only.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.env import (
    DATABRIDGE,
    GO,
    PEERS_PACKAGES,
    Plan,
    REPO_ROOT,
    RESULTS_JSON,
    RESULTS_MD,
    ROUTES_BIG,
    ROUTES_ONE,
    VENV_PYTHON,
    command_output,
    fmt_ms,
    fmt_num,
    load_average,
    log,
)
from bench.servers import ServerSpec
from bench.wrk import Scenario, WrkRun


@dataclass
class Measurement:
    """One server under one scenario. status: ok | wrong | failed | n/a."""

    server: str
    scenario: str
    status: str
    detail: str = ""
    runs: list[WrkRun] = field(default_factory=list)
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    rss_mb: float | None = None
    tree_rss_mb: float | None = None
    notes: list[str] = field(default_factory=list)

    def summarize(self) -> None:
        """Medians over the runs."""
        if not self.runs:
            return
        self.rps = statistics.median(r.rps for r in self.runs)
        p50s = [r.p50_ms for r in self.runs if r.p50_ms is not None]
        p99s = [r.p99_ms for r in self.runs if r.p99_ms is not None]
        self.p50_ms = statistics.median(p50s) if p50s else None
        self.p99_ms = statistics.median(p99s) if p99s else None


@dataclass
class MemoryResult:
    """RSS of one server across a long echo run."""

    server: str
    status: str
    detail: str = ""
    rss_start_mb: float | None = None
    checkpoints: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Goal:
    """One goal of issue #8: ``value`` compared with ``target``.

    ``kind`` "ratio": value = ours / reference, reached when value ≥ target;
    "max_mb": value = RSS growth in MB, reached when value ≤ target.
    ``note``: why value is n/a, or what it was computed from.
    """

    description: str
    ratio: float | None
    target: float
    reached: bool | None
    kind: str = "ratio"
    note: str = ""


def rps_of(
    results: dict[str, dict[str, Measurement]], scenario: str, server: str
) -> float | None:
    measurement = results.get(scenario, {}).get(server)
    return (
        measurement.rps
        if measurement is not None and measurement.status == "ok"
        else None
    )


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def p99_of(
    results: dict[str, dict[str, Measurement]], scenario: str, server: str
) -> float | None:
    measurement = results.get(scenario, {}).get(server)
    return (
        measurement.p99_ms
        if measurement is not None and measurement.status == "ok"
        else None
    )


def why_missing(
    results: dict[str, dict[str, Measurement]], scenario: str, server: str
) -> str:
    """Why a goal has no figure for (scenario, server)."""
    measurement = results.get(scenario, {}).get(server)
    if measurement is None:
        return "not run"
    if measurement.status == "ok":
        return "no figure"
    return measurement.status


def memory_growth(memory: list[MemoryResult]) -> float | None:
    """databridge's RSS growth (MB) between the first and the last memory checkpoint."""
    for mem in memory:
        if mem.server == DATABRIDGE and mem.status == "ok" and len(mem.checkpoints) >= 2:
            first, last = mem.checkpoints[0]["rss_mb"], mem.checkpoints[-1]["rss_mb"]
            if first and last:
                return float(last - first)
    return None


def evaluate_goals(
    results: dict[str, dict[str, Measurement]], memory: list[MemoryResult]
) -> list[Goal]:
    """The goals of issue #8, from the medians of this run."""
    db = DATABRIDGE
    db_hello = rps_of(results, "hello", db)
    # (goal, (scenario, server) of the numerator, (scenario, server) of the denominator, target)
    rows: list[tuple[str, tuple[str, str], tuple[str, str], float]] = [
        ("1 hello: ≥ 1.3× Granian RSGI", ("hello", db), ("hello", "granian-rsgi"), 1.3),
        ("1 hello: ≥ 1.8× uvicorn raw ASGI", ("hello", db), ("hello", "uvicorn"), 1.8),
        ("1 hello: ≥ 5× FastAPI", ("hello", db), ("hello", "fastapi"), 5.0),
        (
            "3 params (path + query): ≥ 1.3× Granian RSGI",
            ("params", db),
            ("params", "granian-rsgi"),
            1.3,
        ),
        (
            "6 text10k (10 KB text): ≥ 1.0× Granian RSGI",
            ("text10k", db),
            ("text10k", "granian-rsgi"),
            1.0,
        ),
        (
            # "no worse" as a ratio: Granian's p99 / databridge's p99 ≥ 1
            "1 hello p99: no worse than Granian RSGI's (ratio = Granian p99 / databridge p99)",
            ("hello", "granian-rsgi"),
            ("hello", db),
            1.0,
        ),
        (
            "1 hello (Python) vs 10 go_hello (Go-only route, same engine): ≥ 0.75×",
            ("hello", db),
            ("go_hello", db),
            0.75,
        ),
        (
            "7 notfound (404, no Python): ≥ 1.5× net/http (bench/goserver)",
            ("notfound", db),
            ("notfound", GO),
            1.5,
        ),
        (
            "9 invalid (422, no Python): ≥ 1.5× net/http (bench/goserver)",
            ("invalid", db),
            ("invalid", GO),
            1.5,
        ),
        (
            "11 routes: last of 203 routes ≥ 0.9× the 1-route app",
            ("routes", ROUTES_BIG),
            ("routes", ROUTES_ONE),
            0.9,
        ),
    ]
    goals = []
    for description, top, bottom, target in rows:
        figure = p99_of if "p99" in description else rps_of
        ours, reference = figure(results, *top), figure(results, *bottom)
        value = ratio(ours, reference)
        missing = [
            f"{server} {scenario}: {why_missing(results, scenario, server)}"
            for (scenario, server), got in ((top, ours), (bottom, reference))
            if got is None
        ]
        goals.append(
            Goal(
                description,
                value,
                target,
                None if value is None else value >= target,
                note="; ".join(missing),
            )
        )
    growth = memory_growth(memory)
    goals.append(
        Goal(
            "RSS growth of databridge over the memory run (1M echo requests): ≤ 5 MB",
            growth,
            5.0,
            None if growth is None else growth <= 5.0,
            kind="max_mb",
            note=memory_note(memory, growth),
        )
    )
    return goals


def memory_note(memory: list[MemoryResult], growth: float | None) -> str:
    """Why the RSS goal has no figure, or over how many requests it was measured."""
    if not memory:
        return "memory scenario not run (use --memory)"
    if growth is None:
        return "memory run failed"
    mem = next(m for m in memory if m.server == DATABRIDGE)
    first, last = mem.checkpoints[0]["requests"], mem.checkpoints[-1]["requests"]
    note = f"from {first:,} to {last:,} requests"
    return note + (" (fewer than the 1M of the goal)" if last < 1_000_000 else "")


def fmt_goal(goal: Goal) -> tuple[str, str, str]:
    """(value, target, reached) as printed."""
    reached = "n/a" if goal.reached is None else ("yes" if goal.reached else "no")
    if goal.kind == "max_mb":
        value = "n/a" if goal.ratio is None else f"{goal.ratio:+.1f} MB"
        return value, f"≤ {goal.target:g} MB", reached
    digits = 2
    if goal.ratio is not None and round(goal.ratio, 2) == goal.target and not goal.reached:
        digits = 3  # 0.896 is not 0.90
    return fmt_num(goal.ratio, digits), f"≥ {goal.target:g}", reached


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = command_output(
        [
            str(VENV_PYTHON),
            "-c",
            (
                "import importlib.metadata as m, json, sys\n"
                f"names = {list(PEERS_PACKAGES) + [DATABRIDGE]!r}\n"
                "out = {'python': sys.version.split()[0]}\n"
                "for n in names:\n"
                "    try: out[n] = m.version(n)\n"
                "    except m.PackageNotFoundError: pass\n"
                "print(json.dumps(out))"
            ),
        ]
    )
    try:
        packages: dict[str, str] = (
            json.loads(versions.splitlines()[-1]) if versions else {}
        )
    except ValueError:
        packages = {}
    commit = command_output(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT)
    dirty = command_output(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT
    )
    return {
        "cpu": cpu,
        "cpus": str(os.cpu_count()),
        "kernel": platform.release(),
        "python": packages.pop("python", platform.python_version()),
        "packages": ", ".join(f"{k} {v}" for k, v in packages.items()),
        "go": command_output(["go", "version"]) or "not found",
        "wrk": (command_output(["wrk", "-v"]).splitlines() or ["?"])[0].split(
            " Copyright"
        )[0],
        "commit": (commit + (" (dirty)" if dirty else "")) if commit else "unknown",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
    }


def render_markdown(
    info: dict[str, str],
    command: str,
    plan: Plan,
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    results: dict[str, dict[str, Measurement]],
    goals: list[Goal],
    memory: list[MemoryResult],
) -> str:
    lines = [
        "# databridge benchmark results",
        "",
        f"- Command: `{command}`",
        f"- Date: {info['date']}, commit {info['commit']}",
        f"- Machine: {info['cpu']} ({info['cpus']} CPUs), Linux {info['kernel']}",
        f"- Python {info['python']}; {info['packages']}",
        f"- {info['go']}; {info['wrk']}",
        f"- 1-minute load average: {info['load']} (anything well above 0 means other work shared the CPUs)",
        f"- Load: server pinned to CPU {plan.server_cpu}, `wrk -t1` pinned to CPU {plan.load_cpu}; "
        f"{plan.runs} runs × {plan.duration:g} s per server and scenario (median shown), "
        + (f"{plan.warmup:g} s wrk warm-up" if plan.warmup else "200-request warm-up")
        + (
            "; one server process for all scenarios (RSS accumulates)"
            if plan.reuse_server
            else "; fresh server per scenario"
        ),
        (
            "- RSS: VmRSS of the server's main process after the load; *tree* adds its child "
            "processes (Granian serves from a worker child)."
        ),
    ]
    if goals:
        lines += [
            "",
            "## Goals (issue #8)",
            "",
            "Computed from the medians of this run: databridge's RPS divided by the"
            " reference's, except where the goal says otherwise (n/a: the note says why).",
            "",
            "| Goal | Ratio | Target | Reached | Note |",
            "| --- | ---: | ---: | :---: | --- |",
        ]
    for goal in goals:
        value, target, reached = fmt_goal(goal)
        lines.append(f"| {goal.description} | {value} | {target} | {reached} | {goal.note} |")
    for scenario in scenarios:
        lines += [
            "",
            f"## {scenario.title}",
            "",
            f"| Server | RPS (median) | p50 | p99 | RSS MB | tree RSS MB | {scenario.ours}/row | Notes |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        ours = rps_of(results, scenario.name, scenario.ours)
        for spec in specs:
            m = results.get(scenario.name, {}).get(spec.name)
            if m is None:
                continue
            if m.status == "n/a":
                lines.append(f"| {spec.name} | n/a | | | | | | {m.detail} |")
                continue
            if m.status != "ok":
                detail = m.detail.replace("|", "\\|").replace("\n", " ")[:300]
                lines.append(f"| {spec.name} | **{m.status}** | | | | | | {detail} |")
                continue
            rel = "—" if spec.name == scenario.ours else fmt_num(ratio(ours, m.rps), 2)
            notes = "; ".join(m.notes)
            lines.append(
                f"| {spec.name} | {fmt_num(m.rps)} | {fmt_ms(m.p50_ms)} | {fmt_ms(m.p99_ms)} | "
                f"{fmt_num(m.rss_mb, 1)} | {fmt_num(m.tree_rss_mb, 1)} | {rel} | {notes} |"
            )
    if memory:
        lines += [
            "",
            "## Memory: RSS during a long echo run",
            "",
            "| Server | RSS at start | Checkpoints (requests: RSS MB) | Growth after the first checkpoint |",
            "| --- | ---: | --- | ---: |",
        ]
        for mem in memory:
            if mem.status != "ok":
                lines.append(
                    f"| {mem.server} | **{mem.status}** | {mem.detail[:300]} | |"
                )
                continue
            points = ", ".join(
                f"{p['requests']:,}: {fmt_num(p['rss_mb'], 1)}" for p in mem.checkpoints
            )
            growth = "n/a"
            if (
                len(mem.checkpoints) >= 2
                and mem.checkpoints[0]["rss_mb"]
                and mem.checkpoints[-1]["rss_mb"]
            ):
                growth = f"{mem.checkpoints[-1]['rss_mb'] - mem.checkpoints[0]['rss_mb']:+.1f} MB"
            lines.append(
                f"| {mem.server} | {fmt_num(mem.rss_start_mb, 1)} MB | {points} | {growth} |"
            )
    lines += ["", "## Servers", ""]
    lines += [
        f"- **{spec.name}**: {spec.description}: `{shlex.join(spec.command())}`"
        for spec in specs
    ]
    return "\n".join(lines) + "\n"


def write_reports(
    load_before: float,
    command: str,
    plan: Plan,
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    results: dict[str, dict[str, Measurement]],
    memory: list[MemoryResult],
) -> None:
    info = machine_info()
    info["load"] = f"{load_before:.2f} before the run, {load_average():.2f} after"
    goals = evaluate_goals(results, memory) if scenarios or memory else []
    RESULTS_MD.write_text(
        render_markdown(info, command, plan, specs, scenarios, results, goals, memory)
    )
    data = {
        "command": command,
        "machine": info,
        "plan": asdict(plan),
        "servers": {
            spec.name: {"command": spec.command()} for spec in specs
        },
        "scenarios": {
            s.name: {m_name: asdict(m) for m_name, m in results.get(s.name, {}).items()}
            for s in scenarios
        },
        "goals": [asdict(goal) for goal in goals],
        "memory": [asdict(mem) for mem in memory],
    }
    RESULTS_JSON.write_text(json.dumps(data, indent=2) + "\n")
    log(
        f"\nwrote {RESULTS_MD.relative_to(REPO_ROOT)} and {RESULTS_JSON.relative_to(REPO_ROOT)}"
    )
    if goals:
        log("\ngoals (issue #8):")
    for goal in goals:
        value, target, reached = fmt_goal(goal)
        note = f"  [{goal.note}]" if goal.note else ""
        log(f"  {goal.description}: {value} (target {target}) {reached.upper() if reached == 'no' else reached}{note}")
