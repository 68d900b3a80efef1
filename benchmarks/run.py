#!/usr/bin/env python
"""Measure ntx-graph's speed and memory next to its peers, and write BENCHMARKS.md.

    python benchmarks/run.py            # the full run (1M triples; about 15 minutes)
    python benchmarks/run.py --quick    # smaller sizes, fewer rounds (about 3 minutes)

The run first builds ntx-graph's wheel and installs it into a clean virtual
environment (no system site-packages; created once, then reused, in
~/.cache/ntx-graph-benchmarks/venv), then runs itself again with that
environment's interpreter: every contender, ``python -c pass`` included, is
timed with the interpreter a user of the wheel has, not a development one.

Every comparison is measured side by side in one run, with the contenders'
runs interleaved (round-robin), and reported as medians. Peers are used when
found (roqet from Debian's rasqal-utils; Comunica and rdflib-endpoint are
installed on first use into ~/.cache/ntx-graph-benchmarks unless
--no-install is given). Everything runs on this machine; HTTP load goes to
127.0.0.1 only, bounded in time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic-drug generator lives with the tests

import bounded  # noqa: E402
import pyoxigraph as ox  # noqa: E402
from server_bench import fetch as _get  # noqa: E402  (one set of HTTP helpers for both benchmarks)
from server_bench import free_port as _free_port  # noqa: E402

from ntx_graph import __version__  # noqa: E402
from ntx_graph.catalog import saved_queries  # noqa: E402
from support.generate import synthetic_drug, write_generated  # noqa: E402

EXE = sys.executable
NALTREXONE = "https://w3id.org/ntx-graph/id/drug/naltrexone"
FLAGSHIP = "off-label-uses-lacking-evidence"
NTX = "https://w3id.org/ntx-graph/def/"


# -- configuration and process measurement ---------------------------------------------


@dataclass
class Config:
    quick: bool
    drugs: int
    cli_rounds: int
    load_rounds: int
    query_rounds: int
    rdflib_timeout: float
    export_rounds: int
    http_seconds: int
    cold_rounds: int
    work: Path
    peers: Path
    install: bool

    @property
    def size_label(self) -> str:
        return "1M" if self.drugs >= 10_000 else f"{self.drugs * 104 // 1000}k"


@dataclass
class Proc:
    seconds: float
    maxrss_mib: float
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = float("nan")  # user + system CPU time of the command


def run_process(cmd: Sequence[str | Path], *, timeout: float = 900, cwd: Path | None = None) -> Proc:
    """Run ``cmd`` through ``launch.py``: its wall time (fork to exit), its own peak RSS and its output."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as box:
        result = Path(box.name)
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            launcher = [EXE, "-S", str(BENCH / "launch.py"), str(result), str(timeout), *map(str, cmd)]
            subprocess.run(launcher, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, timeout=timeout + 60)
            out.seek(0)
            err.seek(0)
            measured = json.loads(result.read_text() or "{}")
            return Proc(measured["seconds"], measured["maxrss_kib"] / 1024, measured["returncode"],
                        out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                        measured.get("cpu_seconds", float("nan")))
    finally:
        result.unlink(missing_ok=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_s(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "-"
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


#: The targets of issues 13 and 12, as the issues state them: (id, section, text). Every
#: measured target row of a section belongs to one of them (by default, its section's first).
ISSUE_TARGETS: list[tuple[str, str, str]] = [
    ("13.1", "cli", "Cold CLI on the bundled graph: `ntx-graph query off-label-uses-lacking-evidence -f csv` "
                    "≤ 2.5 x `python -c pass` and ≤ 1.3 x the pyoxigraph floor script; `ntx-graph list` and "
                    "`ntx-graph --help` ≤ 2 x"),
    ("13.2", "queries", "At 1M generated triples, every saved query bound to one drug takes at most 3 x its time "
                        "on the bundled graph alone, measured in the same process; a query that by its nature "
                        "reads the whole graph is listed with its time and why it cannot follow the answer"),
    ("13.3", "cold", "Cold query on a persistent 1M store, whole process: ≤ 0.3 s for every drug-bound saved query"),
    ("13.4", "load", "Load: in memory ≥ 0.9 x raw pyoxigraph `Store.load` of the same file in the same run; on "
                     "disk (`ntx-graph load --store`) ≥ 0.9 x pyoxigraph's own `bulk_load`; both at ≤ 450 MiB "
                     "peak"),
    ("13.5", "validation", "Validation at scale: `ntx-graph load big.nt --store DIR` validates by default; "
                           "validating 1M triples ≤ 60 s and ≤ 1.5 GiB peak, with a progress display on a "
                           "terminal and a true total time"),
    ("13.6", "export", "Export at 1M: `export -f ntriples` and `-f turtle` ≤ 1.5 x pyoxigraph `Store.dump` of the "
                       "same store, output still byte-identical across runs and processes"),
    ("13.7", "load", "Memory: peak RSS reported for every row; the 1M in-memory graph ≤ 450 MiB"),
    ("12.1", "http", "`is-narcotic`: ≥ 0.25 x `oxigraph serve-read-only` with the cache off, and above "
                     "rdflib-endpoint; with the cache on, ≥ 1 x"),
    ("12.2", "http", "Flagship query: ≥ 1.0 x `oxigraph serve-read-only`"),
    ("12.3", "http", "Both: within 1.5 x of the floor app (uvicorn over one pyoxigraph store), measured in the "
                     "same run"),
    ("12.4", "http", "Under the mixed hostile load of `tests/test_endpoint_load.py`: valid answers all correct, "
                     "none dropped, p99 of valid answers ≤ 2 x the time limit, no client with a fair share of "
                     "workers starved"),
    ("12.5", "http", "1M-triple persistent store: throughput of the flagship within 20% of the bundled graph's"),
]


@dataclass
class Report:
    sections: list[tuple[str, str]] = field(default_factory=list)  # (key, markdown)
    #: (issue target id, what, goal, measured, verdict)
    targets: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    section: str = ""  # the section now running: the default issue target of its rows

    def target(self, what: str, goal: str, measured: str, ok: bool | None, *, issue: str | None = None) -> None:
        """Record one measured target row; ``issue`` names its target in ISSUE_TARGETS (e.g. "13.7")."""
        default = next((key for key, section, _ in ISSUE_TARGETS if section == self.section), "")
        self.targets.append((issue or default, what, goal, measured, "-" if ok is None else verdict(ok)))

    def target_table(self, ran: set[str]) -> str:
        lines = ["| issue | target, as the issue states it | measured row | target of the row | measured | |",
                 "|---|---|---|---|---|---|"]
        known = {key for key, _, _ in ISSUE_TARGETS}
        for key, section, text in ISSUE_TARGETS:
            rows = [row for row in self.targets if row[0] == key]
            if not rows:
                why = "not measured in this run" if section not in ran else "no measurement reported"
                lines.append(f"| {key} | {text} | *{why}* | | | - |")
            for number, (_, what, goal, measured, mark) in enumerate(rows):
                lines.append(f"| {key if number == 0 else ''} | {text if number == 0 else ''} | {what} | {goal} | "
                             f"{measured} | {mark} |")
        for key, what, goal, measured, mark in self.targets:
            if key not in known:
                lines.append(f"| {key or '-'} | | {what} | {goal} | {measured} | {mark} |")
        return "\n".join(lines)


def query_text(name: str) -> str:
    """A saved query's text with its ``?drug`` parameter bound to naltrexone by a VALUES clause,
    for tools that cannot pre-bind variables."""
    text = next(q for q in saved_queries() if q.name == name).text
    return re.sub(r"(WHERE|ASK)\s*\{", lambda m: f"{m.group(1)} {{\n  VALUES ?drug {{ <{NALTREXONE}> }}", text, count=1)


def csv_rows(text: str) -> int:
    lines = [line for line in text.splitlines() if line.strip()]
    return max(len(lines) - 1, 0)


# -- the machine -------------------------------------------------------------------------


def _version(cmd: Sequence[str]) -> str:
    if not shutil.which(cmd[0]) and not Path(cmd[0]).exists():
        return "not installed"
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not runnable"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine(cfg: Config, start_load: tuple[float, float, float]) -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    os_name = platform.platform()
    try:
        pretty = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text())
        if pretty:
            os_name = f"{pretty.group(1)} (Linux {platform.release()})"
    except OSError:
        pass
    comunica = cfg.peers / "comunica" / "node_modules" / "@comunica" / "query-sparql-file" / "package.json"
    comunica_version = json.loads(comunica.read_text())["version"] if comunica.exists() else "not installed"
    endpoint = cfg.peers / "rdflib-endpoint" / "bin" / "python"
    endpoint_version = _version(
        [str(endpoint), "-c", "import importlib.metadata as m; print(m.version('rdflib-endpoint'))"])
    rows = [
        ("CPU", f"{cpu}"), ("cores", str(os.cpu_count())), ("RAM", memory), ("OS", os_name),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("interpreter of every measured process", f"`{_home(EXE)}` (a clean virtual environment of "
                                                  f"`{_home(getattr(sys, '_base_executable', EXE))}`, without "
                                                  "system site-packages; ntx-graph from its wheel)"),
        ("ntx-graph", __version__), ("pyoxigraph", _package_version("pyoxigraph")),
        ("rdflib", _package_version("rdflib")), ("pySHACL", _package_version("pyshacl")),
        ("roqet (rasqal)", _version(["roqet", "--version"])),
        ("Comunica (@comunica/query-sparql-file)", comunica_version), ("Node.js", _version(["node", "--version"])),
        ("Oxigraph server", _version(["oxigraph", "--version"])), ("rdflib-endpoint", endpoint_version),
        ("pyshacl-turbo", _package_version("pyshacl-turbo")),
        ("wrk", _version(["wrk", "-v"])),
        ("load average (1, 5, 15 min) at start", " ".join(f"{x:.2f}" for x in start_load)),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


# -- peers -------------------------------------------------------------------------------------


def comunica_bin(cfg: Config) -> Path | None:
    binary = cfg.peers / "comunica" / "node_modules" / ".bin" / "comunica-sparql-file"
    if not binary.exists() and cfg.install and shutil.which("npm"):
        log("installing Comunica (npm i @comunica/query-sparql-file@4)")
        (cfg.peers / "comunica").mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "i", "--no-audit", "--no-fund", "--prefix", str(cfg.peers / "comunica"),
                        "@comunica/query-sparql-file@4"], capture_output=True, timeout=600)
    return binary if binary.exists() else None


def rdflib_endpoint_bin(cfg: Config) -> Path | None:
    venv = cfg.peers / "rdflib-endpoint"
    binary = venv / "bin" / "rdflib-endpoint"
    if not binary.exists() and cfg.install:
        log("installing rdflib-endpoint into its own virtual environment")
        subprocess.run([EXE, "-m", "venv", str(venv)], capture_output=True, timeout=300)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "rdflib-endpoint[cli]", "click", "uvicorn"],
                       capture_output=True, timeout=600)
    return binary if binary.exists() else None


def roqet_bin(cfg: Config) -> str | None:
    if not shutil.which("roqet") and cfg.install and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing roqet (apt-get install rasqal-utils)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "rasqal-utils"], capture_output=True, timeout=600)
    return shutil.which("roqet")


# -- 1. cold CLI -----------------------------------------------------------------------------


def cold_cli(cfg: Config, report: Report) -> str:
    from ntx_graph import resources

    bundled = cfg.work / "bundled.ttl"
    rq = cfg.work / f"{FLAGSHIP}.rq"
    rq.write_text(query_text(FLAGSHIP))
    script = Path(EXE).parent / "ntx-graph"
    floor = "pyoxigraph floor script"
    commands: dict[str, list[str | Path]] = {"python -c pass": [EXE, "-c", "pass"]}
    commands[floor] = [EXE, BENCH / "floor_cli.py", rq, *resources.bundled_files()]
    commands["ntx-graph query (console script)"] = [script, "query", FLAGSHIP, "-f", "csv"]
    commands["ntx-graph query (python -m ntx_graph)"] = [EXE, "-m", "ntx_graph", "query", FLAGSHIP, "-f", "csv"]
    commands["ntx-graph list"] = [script, "list"]
    commands["ntx-graph --help"] = [script, "--help"]
    commands["rdflib 7 (minimal script)"] = [EXE, BENCH / "rdflib_query.py", bundled, rq]
    roqet = roqet_bin(cfg)
    if roqet:
        commands["roqet (rasqal)"] = [roqet, "-q", "-i", "sparql11-query", "-r", "csv", "-D", bundled, rq]
    comunica = comunica_bin(cfg)
    if comunica:
        commands["Comunica (comunica-sparql-file)"] = [comunica, bundled, "-f", rq, "-t", "text/csv"]
    diagnose: dict[str, list[str | Path]] = {}
    if roqet:
        diagnose["roqet (rasqal)"] = [roqet, "-W", "100", "-i", "sparql11-query", "-r", "csv", "-D", bundled, rq]
    no_rows = {"python -c pass", "ntx-graph list", "ntx-graph --help"}
    problems: dict[str, str] = {}
    rows: dict[str, int] = {}
    expected = csv_rows(run_process(commands[floor], cwd=cfg.work, timeout=120).stdout)  # pyoxigraph's answer
    for name, cmd in list(commands.items()):
        first = run_process(cmd, cwd=cfg.work, timeout=120)
        rows[name] = csv_rows(first.stdout)
        if name not in no_rows and (first.returncode != 0 or rows[name] != expected):
            stderr = run_process(diagnose[name], cwd=cfg.work).stderr if name in diagnose else first.stderr
            warnings = list(dict.fromkeys(  # distinct lines, in order, without the query file's URI
                re.sub(r"URI \S+ - ", "", line) for line in stderr.splitlines()
                if line.strip() and "Running query" not in line and "bound but is unused" not in line))
            problems[name] = (f"exit status {first.returncode}, {rows[name]} rows instead of {expected} "
                              "(the floor's); stderr: "
                              + (" / ".join(warnings[-3:])[:400] or "(empty)"))
            del commands[name]
        elif name in no_rows and first.returncode != 0:
            problems[name] = f"exit status {first.returncode}: {first.stderr.strip()[-200:]}"
            del commands[name]
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, float] = {name: 0.0 for name in commands}
    names = list(commands)
    for round_number in range(cfg.cli_rounds):
        order = names[round_number % len(names):] + names[: round_number % len(names)]
        for name in order:
            done = run_process(commands[name], cwd=cfg.work, timeout=120)
            times[name].append(done.seconds)
            peaks[name] = max(peaks[name], done.maxrss_mib)
    base = median(times["python -c pass"])
    floor_time = median(times[floor]) if floor in times else float("nan")
    lines = [
        f"`{FLAGSHIP}` on the bundled graph (2,115 triples; the peers read `ntx-graph export` Turtle), "
        f"{cfg.cli_rounds} interleaved rounds, whole process from spawn to exit, output to a file as CSV. Every "
        f"Python process runs `{_home(EXE)}`, the interpreter of a clean virtual environment with ntx-graph's wheel "
        "installed. The *floor* is `benchmarks/floor_cli.py`: pyoxigraph alone parses the three bundled Turtle "
        "files, runs the same query text and prints CSV.",
        "",
        "| tool | median | min | max | x `python -c pass` | x floor | peak RSS | rows |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        t = times[name]
        shown = rows[name] if name not in no_rows else "-"
        lines.append(f"| {name} | {fmt_s(median(t))} | {fmt_s(min(t))} | {fmt_s(max(t))} | "
                     f"{median(t) / base:.2f} | {median(t) / floor_time:.2f} | {peaks[name]:.0f} MiB | {shown} |")
    for name, why in problems.items():
        lines.append(f"| {name} | cannot run the query | | | | | | {why} |")
    for name in ("ntx-graph query (console script)", "ntx-graph query (python -m ntx_graph)"):
        if name in times:
            ratio, over_floor = median(times[name]) / base, median(times[name]) / floor_time
            report.target(f"cold CLI, {name}", "≤ 2.5 x `python -c pass`",
                          f"{ratio:.2f} x ({fmt_s(median(times[name]))})", ratio <= 2.5)
            report.target(f"cold CLI, {name}", "≤ 1.3 x the pyoxigraph floor",
                          f"{over_floor:.2f} x (floor {fmt_s(floor_time)})", over_floor <= 1.3)
    for name in ("ntx-graph list", "ntx-graph --help"):
        if name in times:
            ratio = median(times[name]) / base
            report.target(f"cold CLI, `{name}`", "≤ 2 x `python -c pass`",
                          f"{ratio:.2f} x ({fmt_s(median(times[name]))})", ratio <= 2)
    if problems:
        lines += ["", "Contenders that could not run:", ""]
        lines += [f"- **{name}**: {why}" for name, why in problems.items()]
    return "\n".join(lines)


# -- 2. load -------------------------------------------------------------------------------


LOADERS = [
    ("ntx-graph `KnowledgeGraph.open(data=[file])` (in memory)", "load-kg"),
    ("pyoxigraph `Store().load(path)` (in memory)", "load-raw"),
    ("ntx-graph `persistent.build_store` (on disk, without validation)", "load-store"),
    ("pyoxigraph `Store(dir).bulk_load(path)` + `optimize()` (on disk)", "load-raw-bulk-disk"),
]
#: Each ntx-graph load path and the raw pyoxigraph path it is held to (≥ 0.9 x its speed).
REFERENCE = {"load-kg": "load-raw", "load-store": "load-raw-bulk-disk"}


def load(cfg: Config, report: Report, files: dict[str, Path]) -> str:
    results: dict[tuple[str, str], list[Proc]] = {}
    payloads: dict[tuple[str, str], list[dict[str, Any]]] = {}
    failures: list[str] = []
    stores = cfg.work / "stores"
    stores.mkdir(exist_ok=True)

    def measure(task: str, fmt: str, path: Path, round_number: int, timeout: float) -> None:
        args: list[str | Path] = [EXE, BENCH / "tasks.py", task, path]
        if task in ("load-store", "load-raw-bulk-disk"):
            args.append(stores / f"bench-{task}-{fmt}")
        log(f"load round {round_number + 1}: {task} {path.name}")
        done = run_process(args, timeout=timeout)
        if len(args) > 4:
            shutil.rmtree(args[4], ignore_errors=True)
        if done.returncode != 0:
            why = (f"stopped at the time limit of {timeout:g} s" if done.returncode == -9
                   else f"exit status {done.returncode}: {done.stderr.strip()[-300:]}")
            failures.append(f"- `{task}` {fmt}, round {round_number + 1}: {why}")
            return
        results.setdefault((task, fmt), []).append(done)
        payloads.setdefault((task, fmt), []).append(json.loads(done.stdout.strip().splitlines()[-1]))

    for round_number in range(cfg.load_rounds):
        for fmt, path in files.items():  # Turtle as often as N-Triples: ntx-graph reads it its own way
            for _, task in LOADERS:
                measure(task, fmt, path, round_number, 300)
    if not cfg.quick:
        measure("load-rdflib", "ntriples", files["ntriples"], 0, 600)
    lines = [
        f"The generated graph ({files['ntriples'].stat().st_size / 1e6:.0f} MB of N-Triples, "
        f"{files['turtle'].stat().st_size / 1e6:.0f} MB of Turtle), {cfg.load_rounds} interleaved rounds of each, "
        "rdflib once, each load in a fresh child process. Time is the load call alone (no interpreter "
        "start-up); CPU is the child's whole user and system time (all its threads: the on-disk bulk loader uses "
        "several), a steadier figure than wall time on a shared machine; peak RSS is the child's whole peak "
        "(`os.wait4`), interpreter included. ntx-graph's paths also load the bundled graph (2,115 triples). Each "
        "ntx-graph path is compared with the raw pyoxigraph call it stands on: `Store().load` in memory, "
        "`bulk_load` (then `optimize`, which `build_store` also runs) on disk.",
        "",
        "| load path | format | triples | median time | triples/s | CPU | peak RSS | x speed of its pyoxigraph "
        "reference | x by CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    labels = dict((task, label) for label, task in LOADERS)
    labels["load-rdflib"] = "rdflib `Graph().parse(file)`"
    for fmt in files:
        for task in [*(t for _, t in LOADERS), "load-rdflib"]:
            if (task, fmt) not in payloads:
                continue
            seconds = median([p["seconds"] for p in payloads[(task, fmt)]])
            cpu = median([p.cpu_seconds for p in results[(task, fmt)]])
            triples = payloads[(task, fmt)][0]["triples"]
            peak = max(p.maxrss_mib for p in results[(task, fmt)])
            reference = REFERENCE.get(task, "load-raw" if task == "load-rdflib" else task)
            ref_seconds = median([p["seconds"] for p in payloads.get((reference, fmt), [])])
            ref_cpu = median([p.cpu_seconds for p in results.get((reference, fmt), [])])
            speed = ref_seconds / seconds if seconds > 0 else float("nan")
            lines.append(f"| {labels[task]} | {fmt} | {triples:,} | {fmt_s(seconds)} | {triples / seconds:,.0f} | "
                         f"{fmt_s(cpu)} | {peak:,.0f} MiB | {speed:.2f} | {ref_cpu / cpu:.2f} |")
            if task in REFERENCE:
                report.target(f"load {cfg.size_label} {fmt}, {labels[task]}",
                              f"≥ 0.9 x {labels[reference].split(' (')[0]}",
                              f"{speed:.2f} x ({fmt_s(seconds)} vs {fmt_s(ref_seconds)}; by CPU {ref_cpu / cpu:.2f} x)",
                              speed >= 0.9)
                report.target(f"load {cfg.size_label} {fmt}, {labels[task]}", "peak RSS ≤ 450 MiB",
                              f"{peak:,.0f} MiB", peak <= 450)
            if task == "load-kg" and fmt == "ntriples":
                report.target(f"the {cfg.size_label} in-memory graph ({labels[task]})", "peak RSS ≤ 450 MiB",
                              f"{peak:,.0f} MiB", peak <= 450, issue="13.7")
    if failures:
        lines += ["", "Loads that did not complete:", "", *failures]
    return "\n".join(lines)


# -- validation at scale ---------------------------------------------------------------------------


def validation(cfg: Config, report: Report, files: dict[str, Path]) -> str:
    """``ntx-graph load FILE --store DIR`` as a user runs it: it validates first, then builds."""
    script = Path(EXE).parent / "ntx-graph"
    directory = cfg.work / "stores" / "validated"
    rows = []
    for fmt in ("ntriples",):
        log(f"validation: ntx-graph load {files[fmt].name} --store DIR")
        done = run_process([script, "load", files[fmt], "--store", directory], timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"ntx-graph load: {done.stderr.strip()[-500:]}")
        manifest = json.loads((directory / "ntx-graph-store.json").read_text())
        validation_seconds = float(manifest.get("validation_seconds", float("nan")))
        summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        summary = summary.replace(str(directory), "DIR")
        rows.append((fmt, manifest["triples"], done.seconds, validation_seconds, done.cpu_seconds, done.maxrss_mib,
                     summary))
        shutil.rmtree(directory, ignore_errors=True)
        report.target(f"validation of {cfg.size_label} triples (`ntx-graph load --store`, validating)",
                      "≤ 60 s", f"{fmt_s(validation_seconds)} (whole process: {fmt_s(done.cpu_seconds)} of CPU)",
                      validation_seconds <= 60)
        report.target(f"validation of {cfg.size_label} triples (`ntx-graph load --store`, validating)",
                      "peak RSS ≤ 1.5 GiB", f"{done.maxrss_mib:,.0f} MiB", done.maxrss_mib <= 1536)
    lines = [
        "`ntx-graph load FILE --store DIR`, whole process, once: it validates FILE with the bundled graph against "
        "the SHACL shapes (pyshacl-turbo over pyoxigraph, with ntx-graph's RDFS rules; pySHACL gives the same "
        "report, `tests/test_shacl_engines.py`), then builds the store. The validation time comes from the "
        "store's manifest; CPU (user and system time, all threads) and the peak RSS are the whole process's.",
        "",
        "| input | triples | whole process | of which validation | CPU, whole process | peak RSS | the command's "
        "last line |",
        "|---|---|---|---|---|---|---|",
        *(f"| {fmt} | {triples:,} | {fmt_s(total)} | {fmt_s(valid)} | {fmt_s(cpu)} | {peak:,.0f} MiB | `{summary}` |"
          for fmt, triples, total, valid, cpu, peak, summary in rows),
    ]
    return "\n".join(lines)


# -- 3. saved queries at scale -------------------------------------------------------------------


def _feature_drug(has: Callable[[list[ox.Triple]], bool], seed: int = 0) -> str:
    for index in range(500):
        drug = synthetic_drug(index, seed)
        if has(drug.triples):
            return drug.iri.value
    return synthetic_drug(0, seed).iri.value


def query_cases() -> list[tuple[str, dict[str, str], str]]:
    """(query, params, label): each saved query with its defaults, and each drug-parameterised
    query on a synthetic drug that has what the query looks for."""
    def typed(name: str) -> Callable[[list[ox.Triple]], bool]:
        return lambda ts: any(t.object == ox.NamedNode(NTX + name) for t in ts)

    features = {
        "liver-damage-warning-signs": typed("WarningSign"),
        "contraindications-and-precautions": typed("Contraindication"),
        "treatment-duration": typed("TreatmentDuration"),
        "formulations-and-dosing": typed("Regimen"),
        "off-label-uses-lacking-evidence": lambda ts: any(t.object.value.endswith("/no-evidence-cited") for t in ts),
        "is-narcotic": lambda ts: any(t.predicate.value == NTX + "isNarcotic" and t.object.value == "true" for t in ts),
        "side-effects-needing-immediate-attention": lambda ts: any(t.object.value.endswith("frequency/rare")
                                                                  for t in ts),
    }
    cases = []
    for query in saved_queries():
        cases.append((query.name, {}, "defaults"))
        if query.parameter("drug") is not None:
            drug = _feature_drug(features.get(query.name, lambda ts: True))
            cases.append((query.name, {"drug": drug}, "synthetic drug"))
    return cases


#: Why a saved query without a drug parameter reads the whole graph, whatever its size.
WHOLE_GRAPH = {
    "claims-with-sources": "lists every claim of the graph with its source and quotes: its answer grows with "
                           "the graph",
    "quote-lookup": "a text search: CONTAINS over the exact text of every quote selector, with no index to "
                    "start from",
}


#: The longest one saved-query case may take (one run, on one graph) before its worker process is
#: killed and the case recorded as over the limit; the other cases still run.
QUERY_CASE_LIMIT = 30.0


class _QueryWorker:
    """``query_worker.py`` as a child process holding both graphs: one request at a time, each
    bounded by a time limit. A pyoxigraph query cannot be interrupted from Python, so a case that
    overruns kills the process (and the evaluation with it); the next request starts a new one."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)
        self.proc: subprocess.Popen[str] | None = None
        self.sizes: dict[str, int] = {}
        self.peak_mib = 0.0

    def _start(self) -> None:
        self.proc = subprocess.Popen([EXE, str(BENCH / "query_worker.py"), *map(str, self.files)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._read(600)
        if line is None:
            self.stop()
            raise RuntimeError("the query worker did not load the graphs within 600 s")
        self.sizes = json.loads(line)

    def _read(self, limit: float) -> str | None:
        import select

        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], limit)
        return (self.proc.stdout.readline() or None) if ready else None

    def _peak(self) -> None:
        if self.proc is not None:
            try:
                status = Path(f"/proc/{self.proc.pid}/status").read_text()
                self.peak_mib = max(self.peak_mib, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)  # type: ignore[union-attr]
            except (OSError, AttributeError):
                pass

    def run(self, graph: str, name: str, params: dict[str, str], limit: float) -> tuple[float, float, int] | str:
        """(wall seconds, CPU seconds, rows) of one run of ``name`` on ``graph`` ("big" or "small"), or why
        there is none."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"graph": graph, "name": name, "params": params}) + "\n")
        self.proc.stdin.flush()
        line = self._read(limit)
        if line is None:
            self.stop()
            return f"over the {limit:.0f} s limit (stopped)"
        answer = json.loads(line)
        if "error" in answer:
            return str(answer["error"])
        return float(answer["seconds"]), float(answer["cpu_seconds"]), int(answer["rows"])

    def stop(self) -> None:
        if self.proc is not None:
            self._peak()
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def saved_query_speed(cfg: Config, report: Report, files: dict[str, Path]) -> str:
    """Every saved query through ``KnowledgeGraph.run`` (whatever binding the package uses), on the
    1M graph and on the bundled graph alone, both held by one child process, interleaved; each run
    bounded by QUERY_CASE_LIMIT, a failed or stopped case recorded in its row."""
    cases = query_cases()
    big_times: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    small_times: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    big_cpu: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    small_cpu: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    rows: dict[int, dict[str, int]] = {i: {} for i in range(len(cases))}
    failed: dict[int, str] = {}
    # the whole-graph queries last in each round: the memory their large answers churn slows the
    # next few small queries down
    schedule = sorted(range(len(cases)), key=lambda i: not get_parameter(cases[i][0], "drug"))
    worker = _QueryWorker([files["ntriples"]])
    try:
        for round_number in range(cfg.query_rounds + 1):  # round 0, untimed, warms every case up
            log(f"saved queries round {round_number}/{cfg.query_rounds}")
            for i in schedule:
                name, params, label = cases[i]
                if i in failed:
                    continue
                pair = ["big", "small"] if label == "defaults" else ["big"]
                if round_number % 2:
                    pair.reverse()
                for which in pair:
                    outcome = worker.run(which, name, params, QUERY_CASE_LIMIT)
                    if isinstance(outcome, str):
                        failed[i] = f"{'at ' + cfg.size_label if which == 'big' else 'bundled only'}: {outcome}"
                        break
                    if round_number:
                        (big_times if which == "big" else small_times)[i].append(outcome[0])
                        (big_cpu if which == "big" else small_cpu)[i].append(outcome[1])
                    rows[i][which] = outcome[2]
    finally:
        worker.stop()
    sizes = worker.sizes or {"big": 0, "small": 0}
    lines = [
        f"Every saved query through `KnowledgeGraph.run` (parameter typing and class checks, the package's own "
        f"parameter binding, conversion into a `QueryResult`), {cfg.query_rounds} interleaved rounds, all rows "
        f"materialised, in one child process holding the generated graph plus the bundled graph ({sizes['big']:,} "
        f"triples, in memory) and the bundled graph alone ({sizes['small']:,} triples); the time is the `run` call "
        f"alone, after one untimed warm-up round; *x bundled only* is the ratio of the median CPU times "
        "(the worker's process time during the call), which other work on the machine does not inflate as it "
        "does the wall times (given as medians, wall and CPU). "
        f"Each run may take at most {QUERY_CASE_LIMIT:.0f} s: a case over "
        "it is stopped (with its process) and recorded below, and the others still run. *defaults* binds the "
        "query's default drug (naltrexone, the same answer in both graphs); *synthetic drug* binds a generated "
        "drug that has what the query looks for. "
        f"Peak RSS of the child process: {worker.peak_mib:,.0f} MiB (both graphs and the results).",
        "",
        f"| query | parameters | rows at {cfg.size_label} | bundled only (CPU) | at {cfg.size_label} (CPU) | "
        "x bundled only |",
        "|---|---|---|---|---|---|",
    ]
    slow, whole, broken = [], [], []
    drug_bound: list[tuple[str, float]] = []
    for i, (name, params, label) in enumerate(cases):
        base = cases.index((name, {}, "defaults"))
        big_m, small_m = median(big_times[i]), median(small_times[base])
        big_c, small_c = median(big_cpu[i]), median(small_cpu[base])
        ratio = big_c / small_c if small_c > 0 else float("nan")
        param_text = "defaults" if not params else ", ".join(f"{k}={v.rsplit('/', 1)[-1]}" for k, v in params.items())
        shown_ratio = f"{ratio:.1f}" if label == "defaults" else f"({ratio:.1f})"
        if i in failed:
            broken.append(f"`{name}` ({param_text}): {failed[i]}")
            shown_ratio = "failed"
        small_cell = f"{fmt_s(small_m)} ({fmt_s(small_c)})" if label == "defaults" else ""
        lines.append(f"| `{name}` | {param_text} | {rows[i].get('big', '-')} | {small_cell} | "
                     f"{fmt_s(big_m)} ({fmt_s(big_c)}) | {shown_ratio} |")
        if label != "defaults":
            continue
        if get_parameter(name, "drug"):
            drug_bound.append((name, ratio if i not in failed else float("inf")))
            if i in failed or ratio > 3:
                slow.append(f"`{name}`: {fmt_s(big_c)} of CPU at {cfg.size_label} against {fmt_s(small_c)} on the "
                            f"bundled graph ({ratio:.1f} x)" if i not in failed else f"`{name}`: {failed[i]}")
        else:
            whole.append(f"`{name}`: {fmt_s(big_m)} ({rows[i].get('big', 0):,} rows) at {cfg.size_label}, "
                         f"{fmt_s(small_m)} on the bundled graph: {WHOLE_GRAPH.get(name, 'it has no drug parameter')}")
    within = [ratio <= 3 for _, ratio in drug_bound]
    worst = max(drug_bound, key=lambda item: item[1]) if drug_bound else ("-", float("nan"))
    report.target(f"drug-bound saved queries at {cfg.size_label}", "each ≤ 3 x its time on the bundled graph (CPU)",
                  f"{sum(within)}/{len(within)} within; worst `{worst[0]}` {worst[1]:.1f} x", all(within))
    if broken:
        lines += ["", "Cases that failed or were stopped:", "", *[f"- {item}" for item in broken]]
    if slow:
        lines += ["", "Drug-bound queries whose cost still follows the graph, not the answer (over 3 x):", "",
                  *[f"- {item}" for item in slow]]
    if whole:
        lines += ["", "Queries that read the whole graph by their nature:", "", *[f"- {item}" for item in whole]]
    return "\n".join(lines)


def get_parameter(name: str, parameter: str) -> bool:
    return next(q for q in saved_queries() if q.name == name).parameter(parameter) is not None


# -- 4. cold query on a persistent store -------------------------------------------------------


#: The longest one cold process on the persistent store may take before it is killed.
COLD_PROCESS_LIMIT = 60.0

#: ``open_store`` + ``run`` as a whole process: argv is the store directory and the query name.
_OPEN_STORE_SCRIPT = (
    "import sys\n"
    "from ntx_graph.graph import KnowledgeGraph\n"
    "result = KnowledgeGraph.open_store(sys.argv[1]).run(sys.argv[2])\n"
    "print(int(bool(result.boolean)) if result.kind == 'ask' else len(result))\n"
)


def cold_persistent(cfg: Config, report: Report, files: dict[str, Path]) -> str:
    """A new process per drug-bound saved query on a persistent store of the generated graph, two
    ways: the CLI (``ntx-graph query NAME --store DIR``) and a Python script (``open_store`` +
    ``run``); each process bounded by COLD_PROCESS_LIMIT, a failed one recorded in its row."""
    from ntx_graph.persistent import build_store

    directory = cfg.work / "stores" / "cold"
    info = build_store([files["ntriples"]], directory)
    script = Path(EXE).parent / "ntx-graph"
    baseline = "python -c pass"
    commands: dict[tuple[str, str], list[str | Path]] = {(baseline, ""): [EXE, "-c", "pass"]}
    queries = [q for q in saved_queries() if q.parameter("drug") is not None]
    for query in queries:
        fmt = "ntriples" if query.form in ("CONSTRUCT", "DESCRIBE") else "csv"
        commands[(query.name, "cli")] = [script, "query", query.name, "--store", directory, "-f", fmt]
        commands[(query.name, "api")] = [EXE, "-c", _OPEN_STORE_SCRIPT, directory, query.name]
    keys = list(commands)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    cpu: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    peaks: dict[tuple[str, str], float] = {key: 0.0 for key in keys}
    row_counts: dict[tuple[str, str], int] = {}
    failed: dict[tuple[str, str], str] = {}
    for round_number in range(cfg.cold_rounds + 1):  # round 0 warms the page cache and counts the rows
        if round_number:
            log(f"cold queries on the store, round {round_number}/{cfg.cold_rounds}")
        shift = round_number % len(keys)
        for key in keys[shift:] + keys[:shift]:
            if key in failed:
                continue
            try:
                done = run_process(commands[key], timeout=COLD_PROCESS_LIMIT)
            except Exception as error:  # the launcher itself failed or overran: record it, go on
                failed[key] = f"{type(error).__name__}: {error}"
                continue
            if done.returncode != 0:
                failed[key] = f"exit status {done.returncode}: {done.stderr.strip()[-200:]}"
                continue
            if not round_number:
                if key[1] == "cli":
                    graph_form = commands[key][-1] == "ntriples"
                    row_counts[key] = len(done.stdout.splitlines()) if graph_form else csv_rows(done.stdout)
                elif key[1] == "api":
                    row_counts[key] = int(done.stdout.strip() or 0)
                continue
            times[key].append(done.seconds)
            cpu[key].append(done.cpu_seconds)
            peaks[key] = max(peaks[key], done.maxrss_mib)
    lines = [
        f"A store built by `build_store` from the generated graph ({info.triples:,} triples, built in "
        f"{info.seconds:.1f} s), then a new process per query, with the query's default drug, for every saved "
        "query with a drug parameter: *CLI* is `ntx-graph query NAME --store DIR -f csv` (N-Triples for a graph "
        "result), *API* a Python script calling `KnowledgeGraph.open_store(DIR).run(NAME)`. Whole process, spawn "
        f"to exit; one warm-up round (the page cache holds the store, as on a machine that uses it), then "
        f"{cfg.cold_rounds} interleaved rounds; each process at most {COLD_PROCESS_LIMIT:.0f} s. *CPU* is the "
        "process's user + system time (on a loaded machine the wall time also holds the wait for a core). "
        f"`{baseline}`: {fmt_s(median(times[(baseline, '')]))} (CPU {fmt_s(median(cpu[(baseline, '')]))}).",
        "",
        "| query | rows | CLI median | CLI min | CLI CPU | API median | API min | API CPU | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    met: list[tuple[str, float]] = []
    for query in queries:
        cells = [f"`{query.name}`", str(row_counts.get((query.name, "cli"), "-"))]
        for way in ("cli", "api"):
            t = times[(query.name, way)]
            cells += [fmt_s(median(t)), fmt_s(min(t)) if t else "-", fmt_s(median(cpu[(query.name, way)]))]
            label = f"`{query.name}` ({'CLI' if way == 'cli' else 'API'})"
            met.append((label, median(t) if t else float("inf")))
        cells.append(f"{max(peaks[(query.name, 'cli')], peaks[(query.name, 'api')]):.0f} MiB")
        lines.append("| " + " | ".join(cells) + " |")
    if failed:
        lines += ["", "Processes that failed or were stopped:", "",
                  *[f"- `{name}` ({way or 'baseline'}): {why}" for (name, way), why in failed.items()]]
    slowest = max(met, key=lambda item: item[1])
    within = sum(t <= 0.3 for _, t in met)
    report.target(f"cold query on a persistent {cfg.size_label} store, each drug-bound saved query (CLI and "
                  "open_store + run)", "≤ 0.3 s whole process",
                  f"{within}/{len(met)} within; slowest {slowest[0]} {fmt_s(slowest[1])}", within == len(met))
    return "\n".join(lines)


# -- 5. export ---------------------------------------------------------------------------------


def export(cfg: Config, report: Report, files: dict[str, Path]) -> str:
    """Each export in a fresh child process that loads the graph in memory and times one call
    (its peak RSS is the graph's plus the export's); then whole ``ntx-graph export`` processes on a
    persistent store against pyoxigraph's dump of that store, checking that equal graphs give identical
    bytes in every process."""
    from ntx_graph.persistent import build_store

    formats = ("ntriples", "turtle")
    contenders = {"ntx-graph": "ntx-graph `KnowledgeGraph.export` (canonical order)",
                  "ntx-graph-store-order": "ntx-graph `KnowledgeGraph.export(order=\"store\")`",
                  "dump": "pyoxigraph `Store.dump`"}
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    peaks: dict[tuple[str, str], float] = {}
    for round_number in range(cfg.export_rounds):
        for fmt in formats:
            order = list(contenders) if round_number % 2 == 0 else list(reversed(contenders))  # interleaved
            for contender in order:
                log(f"export round {round_number + 1}: {contender} {fmt}")
                done = run_process([EXE, BENCH / "tasks.py", "export", files["ntriples"], fmt, contender], timeout=600)
                if done.returncode != 0:
                    raise RuntimeError(f"export {contender} {fmt}: {done.stderr.strip()[-500:]}")
                results.setdefault((contender, fmt), []).append(json.loads(done.stdout.strip().splitlines()[-1]))
                peaks[(contender, fmt)] = max(peaks.get((contender, fmt), 0.0), done.maxrss_mib)
    # the same graph in a persistent store: whole `ntx-graph export --store` processes against a
    # whole process that dumps the same store with pyoxigraph, interleaved
    import hashlib

    directory = cfg.work / "stores" / "export"
    build_store([files["ntriples"]], directory)
    script = Path(EXE).parent / "ntx-graph"
    names = {"ntriples": "N_TRIPLES", "turtle": "TURTLE"}
    from_store: dict[str, set[str]] = {}
    whole: dict[tuple[str, str], list[Proc]] = {}
    out = cfg.work / "export.out"
    for round_number in range(max(2, cfg.export_rounds)):
        for fmt in formats:
            raw = [EXE, "-c", "import sys, json, pyoxigraph as ox; d = sys.argv[1]; "
                              "p = json.load(open(d + '/ntx-graph-store.json'))['prefixes']; "
                              f"ox.Store.read_only(d).dump(sys.argv[2], format=ox.RdfFormat.{names[fmt]}, "
                              f"from_graph=ox.DefaultGraph(){', prefixes=p' if fmt == 'turtle' else ''})",
                   directory, out]
            pair = [("ntx-graph", [script, "export", "--store", directory, "-f", fmt, "-o", out]),
                    ("ntx-graph-store-order", [script, "export", "--store", directory, "-f", fmt, "--order", "store",
                                               "-o", out]),
                    ("dump", raw)]
            for contender, cmd in pair if round_number % 2 == 0 else reversed(pair):
                log(f"export --store round {round_number + 1}: {contender} {fmt}")
                done = run_process(cmd, timeout=600)
                if done.returncode != 0:
                    raise RuntimeError(f"{contender} {fmt} of the store: {done.stderr.strip()[-300:]}")
                whole.setdefault((contender, fmt), []).append(done)
                if contender != "dump":
                    from_store.setdefault(f"{contender} {fmt}", set()).add(hashlib.sha256(out.read_bytes()).hexdigest())
                out.unlink()
    shutil.rmtree(directory, ignore_errors=True)
    lines = [
        f"The generated graph plus the bundled graph. **In memory**: {cfg.export_rounds} interleaved rounds, each "
        "export in a fresh child process (load, then one timed call, bytes in memory; CPU is that call's process "
        "time); peak RSS is the child's. "
        f"**From a store** (`build_store` of the same files): {max(2, cfg.export_rounds)} interleaved rounds of whole "
        "processes writing a file, `ntx-graph export --store DIR -f FORMAT [--order store] -o FILE` against a "
        "`python -c` script that opens the same store read-only and calls `Store.dump` into the file (with the "
        "store's prefixes for Turtle); CPU is the process's user and system time. The canonical order (the default) "
        "sorts the triples, so equal graphs give the same bytes from memory and from a store, whatever order their "
        "triples were loaded in; `--order store` writes them as the store holds them (the same bytes for the same "
        "inputs loaded in the same order).",
        "",
        "| export | format | median | x `Store.dump` | CPU | x by CPU | peak RSS | size | identical bytes in every "
        "process |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fmt in formats:
        dump = median([r["seconds"] for r in results[("dump", fmt)]])
        dump_cpu = median([r.get("cpu_seconds", float("nan")) for r in results[("dump", fmt)]])
        for contender, label in contenders.items():
            runs = results[(contender, fmt)]
            m = median([r["seconds"] for r in runs])
            cpu = median([r.get("cpu_seconds", float("nan")) for r in runs])
            digests = {r["sha256"] for r in runs}
            same = "yes" if len(digests) == 1 else f"**no** ({len(digests)} different)"
            stored = from_store.get(f"{contender} {fmt}", set())
            if contender != "dump":
                canonical = contender == "ntx-graph"
                runs_of_store = len(whole[(contender, fmt)])
                # canonical: the store's export gives the memory's bytes; store order: one set of bytes per store
                agree = stored == digests if canonical else len(stored) == 1
                same += (f"; `export --store{'' if canonical else ' --order store'}` ({runs_of_store} runs) gives "
                         f"{'the same bytes' if canonical else 'one set of bytes'}: {'yes' if agree else '**no**'}")
                call = "`KnowledgeGraph.export` (canonical order)" if canonical else \
                    "`KnowledgeGraph.export(order=\"store\")`"
                report.target(f"export {cfg.size_label} {fmt}, in memory: {call}",
                              "≤ 1.5 x `Store.dump`", f"{m / dump:.2f} x ({fmt_s(m)} vs {fmt_s(dump)}; by CPU "
                              f"{cpu / dump_cpu:.2f} x)", m / dump <= 1.5)
                report.target(f"export {cfg.size_label} {fmt}, {'canonical' if canonical else 'store'} order: "
                              "identical bytes across runs and processes, "
                              f"{'from memory and from a store' if canonical else 'in memory and from a store'}",
                              "always", "yes" if len(digests) == 1 and agree else "no", len(digests) == 1 and agree)
            lines.append(f"| {label} (in memory) | {fmt} | {fmt_s(m)} | {m / dump:.2f} | {fmt_s(cpu)} | "
                         f"{cpu / dump_cpu:.2f} | "
                         f"{peaks[(contender, fmt)]:,.0f} MiB | {runs[0]['bytes'] / 1e6:.1f} MB | {same} |")
        store_dump = median([p.seconds for p in whole[("dump", fmt)]])
        store_cpu = median([p.cpu_seconds for p in whole[("dump", fmt)]])
        for contender, label in (("ntx-graph", "`ntx-graph export --store` (whole process)"),
                                 ("ntx-graph-store-order", "`ntx-graph export --store --order store` (whole process)"),
                                 ("dump", "`Store.read_only(DIR).dump` (whole process)")):
            procs = whole[(contender, fmt)]
            m, cpu = median([p.seconds for p in procs]), median([p.cpu_seconds for p in procs])
            lines.append(f"| {label} | {fmt} | {fmt_s(m)} | {m / store_dump:.2f} | {fmt_s(cpu)} | "
                         f"{cpu / store_cpu:.2f} | {max(p.maxrss_mib for p in procs):,.0f} MiB | | |")
            if contender != "dump":
                order = " --order store" if contender == "ntx-graph-store-order" else ""
                report.target(f"export {cfg.size_label} {fmt} of a store: `ntx-graph export --store{order}`",
                              "≤ 1.5 x `Store.dump` of the same store",
                              f"{m / store_dump:.2f} x ({fmt_s(m)} vs {fmt_s(store_dump)}; by CPU "
                              f"{cpu / store_cpu:.2f} x)", m / store_dump <= 1.5)
    # where KnowledgeGraph.export spends its time at this size, under cProfile, in one child process
    profiles, triples = bounded.call(_profile_export, files["ntriples"], formats, timeout=600, what="export profile")
    for fmt, (table, parts) in zip(formats, profiles, strict=True):
        ordering = parts.get("split", 0.0) + parts.get("sort", 0.0) + parts.get("join", 0.0)
        lines += ["", f"cProfile of `KnowledgeGraph.export('{fmt}')` (the canonical order) on the in-memory graph "
                      f"({triples:,} triples), by own time (pyoxigraph's calls are single entries: `dump`, the "
                      "`split`, `sort` and `join` of the N-Triples lines, and for Turtle the parser's iteration "
                      "inside `serialize`):", "",
                  "```", *table, "```", "",
                  f"The dump takes {fmt_s(parts.get('dump', 0.0))}; splitting, sorting and joining the lines, which "
                  f"only the canonical order does, {fmt_s(ordering)} "
                  f"({ordering / max(parts.get('dump', 0.0), 1e-9):.2f} x the dump)"
                  + (f", and parsing them back into Turtle {fmt_s(parts.get('serialize', 0.0))}" if fmt == "turtle"
                     else "") + ". Within 1.5 x, everything beyond the dump would have to fit in half of it."]
    return "\n".join(lines)


def _profile_export(path: Path, formats: Sequence[str]) -> tuple[list[tuple[list[str], dict[str, float]]], int]:
    from ntx_graph.graph import KnowledgeGraph

    graph = KnowledgeGraph.open([path], validate=False)
    tables = []
    for fmt in formats:
        profiler = cProfile.Profile()
        profiler.enable()
        graph.export(fmt)
        profiler.disable()
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(10)
        table = [re.sub(r"\S*/(ntx_graph/)", r"\1", line.rstrip()) for line in buffer.getvalue().splitlines()
                 if re.match(r"\s+\d", line) or "function calls" in line][:11]
        # own time of pyoxigraph's dump and serialize and of the lines' split, sort and join
        parts: dict[str, float] = {}
        for (_, _, name), row in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
            found = re.fullmatch(r"<method '(dump|split|sort|join)' of '(pyoxigraph\.Store|bytes|list)' objects>|"
                                 r"<built-in method pyoxigraph(?:\.pyoxigraph)?\.(serialize)>", name)
            if found:
                key = found.group(1) or found.group(3)
                parts[key] = parts.get(key, 0.0) + row[2]
        tables.append((table, parts))
    return tables, len(graph)


# -- 6. HTTP -----------------------------------------------------------------------------------


def _python_load(url: str, seconds: int) -> dict[str, Any]:
    """A bounded client when wrk is missing: 8 threads, keep-alive connections, ``seconds`` long."""
    import http.client

    parsed = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", f"{parsed.path}?{parsed.query}",
                             headers={"Accept": "application/sparql-results+json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
            with lock:
                latencies.append(time.perf_counter() - start)
                failures[0] += 0 if ok else 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()

    def pct(p: float) -> str:
        return fmt_s(latencies[min(len(latencies) - 1, int(p * len(latencies)))]) if latencies else "-"

    return {"rps": len(latencies) / seconds, "p50": pct(0.5), "p99": pct(0.99), "non2xx": failures[0], "errors": "",
            "requests": len(latencies)}


def http(cfg: Config, report: Report) -> str:
    """``benchmarks/server_bench.py``'s measurement (every server side by side, rounds interleaved, CPU
    per request), with issue 12's targets added to the report; the full run also serves a persistent
    store of the generated drugs. Without wrk, a bounded Python client measures ntx-graph alone."""
    help_done = run_process([EXE, "-m", "ntx_graph", "serve", "--help"])
    if help_done.returncode != 0:
        return "Not measured yet: `ntx-graph serve` is not available (" + help_done.stderr.strip()[-200:] + ")."
    endpoint = rdflib_endpoint_bin(cfg)  # installed on first use
    if not shutil.which("wrk"):
        return _http_without_wrk(cfg)
    import server_bench

    if endpoint is not None:
        server_bench.RDFLIB_ENDPOINT = endpoint
    text, verdicts = server_bench.report(cfg.http_seconds, 1 if cfg.quick else 3,
                                         store_drugs=0 if cfg.quick else cfg.drugs)
    for what, goal, measured, ok in verdicts:
        report.target(f"HTTP: {what}", goal, measured, ok, issue=_http_target(what, goal))
    if not cfg.quick:
        summary = server_bench.hostile()
        tests = summary.rpartition("Verdict of its tests: ")[2]
        passed = " passed" in tests and " failed" not in tests and " error" not in tests
        report.target("HTTP: tests/test_endpoint_load.py (mixed hostile load)", "its tests pass",
                      summary.partition("\n")[0].replace("|", "/") + "; " + tests, passed, issue="12.4")
        text += "\n\nMixed hostile load (tests/test_endpoint_load.py):\n\n" + summary
    return text


def _http_target(what: str, goal: str) -> str:
    """Which of issue 12's targets a server_bench verdict measures."""
    if "floor" in goal:
        return "12.3"
    if what.startswith(("flagship on a 1M", "flagship on the same 1M")):
        return "12.5"
    return "12.2" if what.startswith("flagship") else "12.1"


def _http_without_wrk(cfg: Config) -> str:
    import server_bench

    port = _free_port()
    url = f"http://127.0.0.1:{port}/sparql"
    lines = ["wrk is missing (`apt-get install -y wrk`): a Python client (8 threads, keep-alive) measured "
             "`ntx-graph serve` alone, so there is nothing to compare it with.", "",
             "| query | requests/s | p50 | p99 | requests | failed |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryFile() as out:
        server = subprocess.Popen([EXE, "-m", "ntx_graph", "serve", "--port", str(port), "--no-access-log"],
                                  stdout=out, stderr=out, stdin=subprocess.DEVNULL, cwd=cfg.work)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and server.poll() is None and _get(url + "?query=ASK%7B%7D", 2)[0] != 200:
                time.sleep(0.2)
            for name in ("is-narcotic", FLAGSHIP):
                result = _python_load(url + "?" + urllib.parse.urlencode({"query": query_text(name)}), cfg.http_seconds)
                lines.append(f"| `{name}` | {result['rps']:,.0f} | {result['p50']} | {result['p99']} | "
                             f"{result['requests']:,} | {result['non2xx']} |")
        finally:
            server_bench.stop(server)
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------------


#: The order of the report's sections (they run in another order: those that start
#: processes first, before the benchmark process holds the large graph).
REPORT_ORDER = ["cli", "load", "validation", "queries", "cold", "export", "http"]

NOTES = """## Reading the numbers

- The machine has 2 cores and is shared with other work (the load average at the start, after each
  section and at the end is recorded). Medians of interleaved runs damp that noise but do not remove it:
  compare the ratios measured within one run rather than absolute times across runs.
- Every process runs the interpreter of a clean virtual environment (no system site-packages) with
  ntx-graph's wheel installed, as a user has it: `python -c pass` there is the baseline of the cold CLI,
  and the pyoxigraph floor script is what the same query costs without ntx-graph.
- Loading: raw pyoxigraph is the reference for each path (`Store().load` in memory, `bulk_load` then
  `optimize` on disk). N-Triples and Turtle without blank node labels go to pyoxigraph's own loaders
  in blocks cut where a triple or a statement ends: `Store.load` in memory (2 MiB of N-Triples at a
  time), `Store.bulk_load` on disk (32 MiB), which keeps memory bounded (one `bulk_load` of the whole
  file peaks near 1 GiB at a million triples); other files go through the parser (`Store.bulk_extend`
  in chunks of 200,000 quads on disk). `build_store` compacts the store at the end.
- Validation: pyshacl-turbo checks the shapes over a pyoxigraph store that holds the data and the RDFS
  entailments the shapes read, added by four SPARQL updates; pySHACL (the reference) gives the same report
  on every fixture and on the bundled graph.
- Saved queries: the ratio to the bundled graph shows whether a query's cost follows its answer (a
  drug-bound query should cost about the same whatever the size of the graph) or the graph.
- Export: the triples are sorted (the ontology header first) so that equal graphs give identical bytes,
  from memory or from a store; the profile shows what the sort costs next to pyoxigraph's own dump and
  serializer. pyoxigraph's own dump order is not a substitute: an on-disk store dumps in its index order,
  the same for equal content whatever order it was loaded in, but an in-memory store dumps in an order
  that follows its insertions (measured: the same triples inserted in two shuffled orders dump
  differently), and with blank node labels new in each process (measured: the bundled graph, loaded
  the same way in three processes, dumped in the same order with three sets of labels). The raw dump
  is thus byte-identical across processes only for the same files loaded in the same order, without
  blank nodes; the sort and the canonical labels make equal graphs give equal bytes.
- HTTP: the client and the server share the same 2 cores, so these are lower bounds for a dedicated server.
"""

HOW_TO = """## Running the benchmarks

```sh
python benchmarks/run.py                      # every section at 1M triples; rewrites BENCHMARKS.md whole
python benchmarks/run.py --quick              # ~100k triples, fewer rounds, a few minutes; prints the report
python benchmarks/run.py --only export        # one section (repeatable); prints the report
python benchmarks/run.py --only load --output report.md
```

`benchmarks/run.py` builds ntx-graph's wheel, installs it into a clean virtual environment (no system
site-packages; `~/.cache/ntx-graph-benchmarks/venv` by default, `--venv DIR` for another; created once,
the wheel reinstalled at every run), runs itself again with that environment's interpreter, and generates
the synthetic graph once (`tests/support/generate.py`, 10,000 drugs, seed 0) into a cache outside the
repository (`--data-dir`, by default `~/.cache/ntx-graph-benchmarks/data`; a changed generator makes new
files). Each section runs in a forked child process with a time limit (`SECTION_LIMITS`), and every case
in it has its own limit, so a runaway query or load ends as a line in the report, not as a hung run; the
report is rewritten after each section, so a failure late in the run keeps what was measured before it.
`benchmarks/bounded.py` holds that mechanism; the saved-query cases run in one long-lived child,
`benchmarks/query_worker.py`, killed and restarted when a case overruns. `benchmarks/tasks.py` holds the
tasks that need their own process (loads and exports, whose peak
memory and CPU time are read with `os.wait4`), `benchmarks/launch.py` starts each measured process,
`benchmarks/floor_cli.py` is the pyoxigraph floor and `benchmarks/rdflib_query.py` the minimal rdflib peer.
Peers: `roqet` comes from Debian's `rasqal-utils`; Comunica (`npm i @comunica/query-sparql-file@4`) and
`rdflib-endpoint` (in its own virtual environment) are installed on first use into
`~/.cache/ntx-graph-benchmarks` (`--no-install` skips that); `oxigraph` is the `oxigraph` package from PyPI,
installed into the benchmark environment; `wrk` comes from Debian. HTTP load goes to 127.0.0.1 only and
stops after a fixed time.
"""


def _home(path: str | Path) -> str:
    """A path with the home directory shown as ``~`` (the report names no user's folders)."""
    text, home = str(path), str(Path.home())
    return "~" + text[len(home):] if text.startswith(home + os.sep) else text


def clean_environment(venv: Path) -> Path:
    """Build the wheel and install it into a clean virtual environment at ``venv`` (created, or
    recreated if it sees the system site-packages); return its interpreter."""
    python = venv / "bin" / "python"
    config = venv / "pyvenv.cfg"
    clean = config.exists() and re.search(r"include-system-site-packages\s*=\s*false", config.read_text())
    if not python.exists() or not clean:
        base = getattr(sys, "_base_executable", sys.executable)
        log(f"creating a clean virtual environment in {_home(venv)} (no system site-packages)")
        subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    dist = Path(tempfile.mkdtemp(prefix="ntx-wheel-"))
    try:
        log("building ntx-graph's wheel")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                       check=True)
        wheel = next(dist.glob("ntx_graph-*.whl"))
        log(f"installing {wheel.name} into the benchmark environment")
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel), "oxigraph>=0.5,<0.6"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(wheel)],
                       check=True)
    finally:
        shutil.rmtree(dist, ignore_errors=True)
    return python


#: Each section's time limit in seconds (a full run; --quick divides it by 3). A section runs in a
#: forked child process that is killed at its limit, so a hung case cannot stop the run.
SECTION_LIMITS = {"cli": 300, "load": 1200, "validation": 900, "queries": 1200, "cold": 600, "export": 900,
                  "http": 900}


def generated_data(data_dir: Path, drugs: int, seed: int = 0) -> dict[str, Path]:
    """The generated graph as N-Triples and Turtle, cached in ``data_dir`` (made once by
    ``tests/support/generate.py``, and again only when the generator's source changes)."""
    import hashlib

    generator = ROOT / "tests" / "support" / "generate.py"
    key = hashlib.sha256(generator.read_bytes()).hexdigest()[:10]
    data_dir.mkdir(parents=True, exist_ok=True)
    files = {"ntriples": data_dir / f"generated-{drugs}-seed{seed}-{key}.nt",
             "turtle": data_dir / f"generated-{drugs}-seed{seed}-{key}.ttl"}
    for path in files.values():
        if not path.exists():
            log(f"generating {drugs:,} synthetic drugs into {_home(path)}")
            write_generated(path, drugs, seed=seed)  # written to a temporary file, renamed into place
    return files


def _run_section(report: Report, key: str, work_fn: Callable[[], str]) -> tuple[str, list[Any]]:
    """Run one section in this (forked) process; its markdown and the target rows it recorded."""
    report.section = key
    before = len(report.targets)
    body = work_fn()
    return body, report.targets[before:]


def render(cfg: Config, report: Report, *, started: float, start_load: tuple[float, float, float],
           machine_text: str, planned: Sequence[tuple[str, str]], finished: bool) -> str:
    """The whole report: what has run so far (every section not yet run is named as such)."""
    done = dict(report.sections)
    ran = set(done)
    now = " ".join(f"{x:.2f}" for x in os.getloadavg())
    state = (f"in {(time.monotonic() - started) / 60:.1f} minutes; load average (1, 5, 15 min) at the start "
             f"{' '.join(f'{x:.2f}' for x in start_load)}, at the end {now}" if finished else
             f"**a run still going or stopped** after {(time.monotonic() - started) / 60:.1f} minutes (the report is "
             f"rewritten after each section); load average at the start {' '.join(f'{x:.2f}' for x in start_load)}, "
             f"after the last finished section {now}")
    body = []
    for key, title in sorted(planned, key=lambda item: REPORT_ORDER.index(item[0])):
        body.append(done.get(key) or f"## {title}\n\n*Not measured: the run stopped before this section.*")
    return "\n\n".join([
        "# Benchmarks",
        f"Measured by `python benchmarks/run.py{' --quick' if cfg.quick else ''}` on "
        f"{time.strftime('%Y-%m-%d at %H:%M %Z')} {state}. Medians of interleaved runs; the ratios compare "
        "contenders measured side by side in this one run.",
        "## Machine\n\n" + machine_text,
        "## Targets\n\nThe targets of issue 13 (speed at every size) and issue 12 (the server), as the issues "
        "state them, each with the rows measured for it in this run.\n\n" + report.target_table(ran),
        *body,
        NOTES.strip(),
        HOW_TO.strip(),
    ]) + "\n"


def _write(output: Path, text: str) -> None:
    partial = output.with_name(output.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, output)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer rounds (a few minutes)")
    parser.add_argument("--output", type=Path,
                        help="write the report here (default: BENCHMARKS.md for a full run of every section, "
                             "stdout for --quick or --only)")
    parser.add_argument("--no-install", action="store_true", help="do not install missing peers")
    parser.add_argument("--peers-dir", type=Path, default=Path.home() / ".cache" / "ntx-graph-benchmarks",
                        help="where the clean virtual environment and the peers are installed")
    parser.add_argument("--venv", type=Path, help="the clean virtual environment to use (default: PEERS_DIR/venv)")
    parser.add_argument("--data-dir", type=Path,
                        help="where the generated graphs are cached (default: PEERS_DIR/data)")
    parser.add_argument("--only", action="append", default=[], choices=REPORT_ORDER, metavar="SECTION",
                        help=f"run only this section (repeatable): {', '.join(REPORT_ORDER)}")
    parser.add_argument("--in-clean-environment", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.in_clean_environment:
        python = clean_environment(args.venv or args.peers_dir / "venv")
        env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("PYTHONPATH", None)
        env["NTX_BENCH_TEST_PYTHON"] = sys.executable  # has pytest: for the server's hostile-load tests
        command = [str(python), str(Path(__file__).resolve()), *(argv if argv is not None else sys.argv[1:]),
                   "--in-clean-environment"]
        return subprocess.run(command, env=env, cwd=ROOT).returncode
    work = Path(tempfile.mkdtemp(prefix="ntx-bench-"))
    cfg = Config(quick=args.quick, drugs=1_000 if args.quick else 10_000, cli_rounds=5 if args.quick else 10,
                 load_rounds=1 if args.quick else 5, query_rounds=3 if args.quick else 5,
                 rdflib_timeout=3 if args.quick else 10, export_rounds=2 if args.quick else 3,
                 http_seconds=3 if args.quick else 10, cold_rounds=2 if args.quick else 3, work=work,
                 peers=args.peers_dir, install=not args.no_install)
    output = args.output or (None if cfg.quick or args.only else ROOT / "BENCHMARKS.md")
    started = time.monotonic()
    start_load = os.getloadavg()
    report = Report()
    machine_text = machine(cfg, start_load)
    planned: list[tuple[str, str]] = []
    try:
        files = generated_data(args.data_dir or args.peers_dir / "data", cfg.drugs)
        exported = run_process([EXE, "-m", "ntx_graph", "export", "-o", work / "bundled.ttl"])
        if exported.returncode != 0:
            raise RuntimeError(f"ntx-graph export failed: {exported.stderr.strip()}")

        sections: list[tuple[str, str, Callable[[], str]]] = [
            ("cli", "Cold CLI on the bundled graph", lambda: cold_cli(cfg, report)),
            ("load", f"Loading {cfg.size_label} generated triples", lambda: load(cfg, report, files)),
            ("validation", f"Validating {cfg.size_label} triples", lambda: validation(cfg, report, files)),
            ("cold", f"Cold query on a persistent {cfg.size_label} store", lambda: cold_persistent(cfg, report, files)),
            ("export", f"Export of {cfg.size_label} triples", lambda: export(cfg, report, files)),
            ("http", "HTTP throughput", lambda: http(cfg, report)),
            ("queries", f"Saved queries at {cfg.size_label} triples", lambda: saved_query_speed(cfg, report, files)),
        ]
        planned = [(key, title) for key, title, _ in sections if not args.only or key in args.only]
        for key, title, work_fn in sections:
            if args.only and key not in args.only:
                continue
            limit = SECTION_LIMITS[key] / (3 if cfg.quick else 1)
            log(f"section: {title} (time limit {limit:.0f} s)")
            begin = time.monotonic()
            try:
                body, targets = bounded.call(_run_section, report, key, work_fn, timeout=limit, what=f"section {key}")
                report.targets += targets
            except bounded.TimedOut as error:
                body = f"**This section did not finish**: {error}; its measurements are lost."
            except bounded.Failed as error:  # one broken section must not lose the others
                sys.stderr.write(f"{error}\n")
                body = f"**This section failed**: `{str(error).splitlines()[0][:500]}`"
            after = " ".join(f"{x:.2f}" for x in os.getloadavg())
            report.sections.append((key, f"## {title}\n\n{body}\n\n*(section time {time.monotonic() - begin:.0f} s; "
                                         f"load average after it {after})*"))
            if output is not None:  # after each section: a failure later in the run keeps what was measured
                _write(output, render(cfg, report, started=started, start_load=start_load,
                                      machine_text=machine_text, planned=planned, finished=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = render(cfg, report, started=started, start_load=start_load, machine_text=machine_text, planned=planned,
                  finished=True)
    if output is None:
        sys.stdout.write(text)
    else:
        _write(output, text)
        log(f"wrote {output} in {(time.monotonic() - started) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
