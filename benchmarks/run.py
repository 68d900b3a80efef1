#!/usr/bin/env python
"""Measure ntx-graph's speed and memory next to its peers, and write BENCHMARKS.md.

    python benchmarks/run.py            # the full run (1M triples; about 15 minutes)
    python benchmarks/run.py --quick    # smaller sizes, fewer rounds (about 2 minutes)

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
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
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

import pyoxigraph as ox  # noqa: E402

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
                        out.read().decode(errors="replace"), err.read().decode(errors="replace"))
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


@dataclass
class Report:
    sections: list[tuple[str, str]] = field(default_factory=list)  # (key, markdown)
    targets: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, target, measured, verdict

    def target(self, what: str, goal: str, measured: str, ok: bool | None) -> None:
        self.targets.append((what, goal, measured, "-" if ok is None else verdict(ok)))


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
        ("Python", f"{platform.python_implementation()} {platform.python_version()} ({EXE})"),
        ("ntx-graph", __version__), ("pyoxigraph", _package_version("pyoxigraph")),
        ("rdflib", _package_version("rdflib")), ("pySHACL", _package_version("pyshacl")),
        ("roqet (rasqal)", _version(["roqet", "--version"])),
        ("Comunica (@comunica/query-sparql-file)", comunica_version), ("Node.js", _version(["node", "--version"])),
        ("Oxigraph server", _version(["oxigraph", "--version"])), ("rdflib-endpoint", endpoint_version),
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
    bundled = cfg.work / "bundled.ttl"
    rq = cfg.work / f"{FLAGSHIP}.rq"
    rq.write_text(query_text(FLAGSHIP))
    script = Path(EXE).parent / "ntx-graph"
    commands: dict[str, list[str | Path]] = {"python -c pass": [EXE, "-c", "pass"]}
    commands["ntx-graph (python -m ntx_graph)"] = [EXE, "-m", "ntx_graph", "query", FLAGSHIP, "-f", "csv"]
    if script.exists():
        commands["ntx-graph (console script)"] = [script, "query", FLAGSHIP, "-f", "csv"]
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
    problems: dict[str, str] = {}
    rows: dict[str, int] = {}
    for name, cmd in list(commands.items()):
        first = run_process(cmd, cwd=cfg.work, timeout=120)
        rows[name] = csv_rows(first.stdout)
        if name != "python -c pass" and (first.returncode != 0 or rows[name] != 4):
            stderr = run_process(diagnose[name], cwd=cfg.work).stderr if name in diagnose else first.stderr
            warnings = list(dict.fromkeys(  # distinct lines, in order, without the query file's URI
                re.sub(r"URI \S+ - ", "", line) for line in stderr.splitlines()
                if line.strip() and "Running query" not in line and "bound but is unused" not in line))
            problems[name] = (f"exit status {first.returncode}, {rows[name]} rows instead of 4; stderr: "
                              + (" / ".join(warnings[-3:])[:400] or "(empty)"))
            del commands[name]
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for round_number in range(cfg.cli_rounds):
        order = names[round_number % len(names):] + names[: round_number % len(names)]
        for name in order:
            times[name].append(run_process(commands[name], cwd=cfg.work, timeout=120).seconds)
    base = median(times["python -c pass"])
    ntx = median(times.get("ntx-graph (console script)") or times["ntx-graph (python -m ntx_graph)"])
    lines = [
        f"`{FLAGSHIP}` on the bundled graph (2,115 triples; the peers read `ntx-graph export` Turtle), "
        f"{cfg.cli_rounds} interleaved rounds, whole process from spawn to exit, output to a file as CSV.",
        "",
        "| tool | median | min | max | x `python -c pass` | x ntx-graph | rows |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        t = times[name]
        shown = rows[name] if name != "python -c pass" else "-"
        lines.append(f"| {name} | {fmt_s(median(t))} | {fmt_s(min(t))} | {fmt_s(max(t))} | "
                     f"{median(t) / base:.1f} | {median(t) / ntx:.2f} | {shown} |")
    for name, why in problems.items():
        lines.append(f"| {name} | cannot run the query | | | | | {why} |")
    for name in ("ntx-graph (python -m ntx_graph)", "ntx-graph (console script)"):
        if name in times:
            ratio = median(times[name]) / base
            report.target(f"cold CLI, {name}", "≤ 3 x `python -c pass`",
                          f"{ratio:.2f} x ({fmt_s(median(times[name]))})", ratio <= 3)
    if problems:
        lines += ["", "Peers that could not run the saved query (it uses nested subqueries with aggregates):", ""]
        lines += [f"- **{name}**: {why}" for name, why in problems.items()]
    return "\n".join(lines)


# -- 2. load -------------------------------------------------------------------------------


LOADERS = [
    ("ntx-graph `KnowledgeGraph.open(data=[file])` (in memory)", "load-kg"),
    ("ntx-graph `persistent.build_store` (on disk)", "load-store"),
    ("pyoxigraph `Store().load(path)` (in memory)", "load-raw"),
    ("pyoxigraph `Store().bulk_load(path)` (in memory)", "load-raw-bulk"),
    ("proposed `rdf_io.load_file`: `Store.bulk_extend(parse(path))` (prototype)", "load-proposed"),
]


def load(cfg: Config, report: Report, files: dict[str, Path]) -> str:
    results: dict[tuple[str, str], list[Proc]] = {}
    payloads: dict[tuple[str, str], list[dict[str, Any]]] = {}
    stores = cfg.work / "stores"
    stores.mkdir(exist_ok=True)
    for round_number in range(cfg.load_rounds):
        for fmt, path in files.items():
            for _, task in LOADERS:
                args: list[str | Path] = [EXE, BENCH / "tasks.py", task, path]
                if task == "load-store":
                    args.append(stores / f"bench-{fmt}")
                log(f"load round {round_number + 1}: {task} {path.name}")
                done = run_process(args, timeout=600)
                if done.returncode != 0:
                    raise RuntimeError(f"{task} {path}: {done.stderr.strip()[-500:]}")
                results.setdefault((task, fmt), []).append(done)
                payloads.setdefault((task, fmt), []).append(json.loads(done.stdout.strip().splitlines()[-1]))
    rdflib_formats = ["ntriples"] if cfg.quick else list(files)
    for fmt in rdflib_formats:
        log(f"load: rdflib {fmt}")
        done = run_process([EXE, BENCH / "tasks.py", "load-rdflib", files[fmt]], timeout=900)
        if done.returncode == 0:
            results[("load-rdflib", fmt)] = [done]
            payloads[("load-rdflib", fmt)] = [json.loads(done.stdout.strip().splitlines()[-1])]
    lines = [
        f"The generated graph ({files['ntriples'].stat().st_size / 1e6:.0f} MB of N-Triples, "
        f"{files['turtle'].stat().st_size / 1e6:.0f} MB of Turtle), {cfg.load_rounds} interleaved rounds "
        "(rdflib once), each load in a fresh child process. Time is the load call alone (no interpreter start-up); "
        "peak RSS is the child's whole peak (`os.wait4`), interpreter included. ntx-graph's paths also load the "
        "bundled graph (2,115 triples).",
        "",
        "| load path | format | triples | median time | triples/s | peak RSS | x raw `Store().load` time |",
        "|---|---|---|---|---|---|---|",
    ]
    labels = dict((task, label) for label, task in LOADERS)
    labels["load-rdflib"] = "rdflib `Graph().parse(file)`"
    for fmt in files:
        raw = median([p["seconds"] for p in payloads.get(("load-raw", fmt), [])])
        for task in [*(t for _, t in LOADERS), "load-rdflib"]:
            if (task, fmt) not in payloads:
                continue
            seconds = median([p["seconds"] for p in payloads[(task, fmt)]])
            triples = payloads[(task, fmt)][0]["triples"]
            peak = max(p.maxrss_mib for p in results[(task, fmt)])
            lines.append(f"| {labels[task]} | {fmt} | {triples:,} | {fmt_s(seconds)} | {triples / seconds:,.0f} | "
                         f"{peak:,.0f} MiB | {seconds / raw:.2f} |")
            if task in ("load-kg", "load-store"):
                rate = triples / seconds
                report.target(f"load {cfg.size_label} {fmt}, {labels[task]}", "≥ 400,000 triples/s",
                              f"{rate:,.0f} triples/s", rate >= 400_000)
                report.target(f"load {cfg.size_label} {fmt}, {labels[task]}", "peak RSS ≤ 450 MiB",
                              f"{peak:,.0f} MiB", peak <= 450)
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


def _materialise(answer: Any) -> int:
    if isinstance(answer, ox.QueryBoolean):
        return int(bool(answer))
    if isinstance(answer, ox.QuerySolutions):
        return len([tuple(solution) for solution in answer])
    return len(list(answer))


def saved_query_speed(cfg: Config, report: Report, kg: Any, files: dict[str, Path]) -> str:
    from pyoxigraph import Variable

    from ntx_graph.catalog import get_saved_query
    from ntx_graph.graph import KnowledgeGraph

    small = KnowledgeGraph.open()
    cases = query_cases()
    ntx_times: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    raw_times: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    unchecked_times: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    small_times: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    rows: dict[int, tuple[int, int]] = {}
    for round_number in range(cfg.query_rounds):
        log(f"saved queries round {round_number + 1}/{cfg.query_rounds}")
        for i, (name, params, _) in enumerate(cases):
            saved = get_saved_query(name)
            bindings = {Variable(k): v for k, v in kg.bind(saved, params).items()}

            def ntx(name: str = name, params: dict[str, str] = params) -> int:
                result = kg.run(name, params)
                return int(bool(result.boolean)) if result.kind == "ask" else len(result)

            def raw(text: str = saved.text, bindings: dict[Any, Any] = bindings) -> int:
                return _materialise(kg.store.query(text, substitutions=bindings, prefixes=kg.prefixes))

            def unchecked(name: str = name, params: dict[str, str] = params) -> int:
                # KnowledgeGraph.run without the per-call lexical checks (is_update,
                # federation_keywords): what caching them for saved queries would give
                saved_query = get_saved_query(name)
                result = kg._oxigraph_query(saved_query.text, kg.bind(saved_query, params))
                return int(bool(result.boolean)) if result.kind == "ask" else len(result)

            trio = [("ntx", ntx), ("raw", raw), ("unchecked", unchecked)]
            shift = round_number % 3
            counts = {}
            for which, work in trio[shift:] + trio[:shift]:
                start = time.perf_counter()
                counts[which] = work()
                {"ntx": ntx_times, "raw": raw_times, "unchecked": unchecked_times}[which][i].append(
                    time.perf_counter() - start)
            rows[i] = (counts["ntx"], counts["raw"])
            if params.get("drug", NALTREXONE) == NALTREXONE:
                start = time.perf_counter()
                small.run(name, params)
                small_times[i].append(time.perf_counter() - start)
    # rdflib in a child process, each query stopped after a time limit
    cases_file = cfg.work / "rdflib-cases.json"
    default_cases = [(name, params) for name, params, label in cases if label == "defaults"]
    cases_file.write_text(json.dumps(default_cases))
    log("saved queries on rdflib (child process)")
    done = run_process([EXE, BENCH / "tasks.py", "rdflib-queries", files["ntriples"], str(cfg.rdflib_timeout),
                        cases_file], timeout=60 + 3 * cfg.rdflib_timeout * len(default_cases) + 600)
    rdflib_results: dict[str, dict[str, Any]] = {}
    rdflib_prepare = ""
    if done.returncode == 0:
        payload = json.loads(done.stdout.strip().splitlines()[-1])
        rdflib_prepare = (f"rdflib needed {payload['seconds']:.1f} s to load the graph and convert it "
                          f"({done.maxrss_mib:,.0f} MiB peak). ")
        rdflib_results = {r["name"]: r for r in payload["results"]}
    else:
        rdflib_prepare = f"rdflib failed: {done.stderr.strip()[-300:]}. "
    lines = [
        f"Every saved query on the generated graph plus the bundled graph ({len(kg):,} triples, in memory), "
        f"{cfg.query_rounds} interleaved rounds, all rows materialised. *ntx-graph* is `KnowledgeGraph.run` "
        "(parameter typing and class checks, conversion into a `QueryResult`); *pyoxigraph* is `Store.query` with "
        "the same text, the same substitutions (built once, outside the timing) and prefixes on the same store, "
        "rows turned into tuples. "
        "*bundled only* is `KnowledgeGraph.run` on the 2,115-triple bundled graph, for scale. " + rdflib_prepare
        + f"rdflib ran each query once, stopped after {cfg.rdflib_timeout:g} s. *Without lexical checks* is "
        "`KnowledgeGraph.run` minus its per-call `is_update` and `federation_keywords` scans of the query text "
        "(`kg.bind` + `kg._oxigraph_query`), i.e. what caching those checks per saved query would give.",
        "",
        "| query | parameters | rows | bundled only | ntx-graph | pyoxigraph | ratio | ntx-graph minus pyoxigraph "
        "| ratio without lexical checks | rdflib |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    slow = []
    worst = 0.0
    for i, (name, params, label) in enumerate(cases):
        ntx_m, raw_m = median(ntx_times[i]), median(raw_times[i])
        ratio = ntx_m / raw_m if raw_m > 0 else float("nan")
        worst = max(worst, ratio)
        rdflib_cell = ""
        if label == "defaults" and name in rdflib_results:
            r = rdflib_results[name]
            rdflib_cell = (fmt_s(r["seconds"]) if r["outcome"] == "ok" else
                           f"> {cfg.rdflib_timeout:g} s" if r["outcome"] == "timeout" else r["outcome"])
        param_text = "defaults" if not params else ", ".join(f"{k}={v.rsplit('/', 1)[-1]}" for k, v in params.items())
        same = "" if rows[i][0] == rows[i][1] else f" (pyoxigraph: {rows[i][1]})"
        unchecked_ratio = median(unchecked_times[i]) / raw_m if raw_m > 0 else float("nan")
        lines.append(f"| `{name}` | {param_text} | {rows[i][0]}{same} | {fmt_s(median(small_times[i]))} | "
                     f"{fmt_s(ntx_m)} | {fmt_s(raw_m)} | {ratio:.2f} | {(ntx_m - raw_m) * 1000:.2f} ms | "
                     f"{unchecked_ratio:.2f} | {rdflib_cell} |")
        if ntx_m > 0.5:
            slow.append(f"`{name}` ({param_text}): {fmt_s(ntx_m)} at {len(kg):,} triples "
                        f"(bundled only: {fmt_s(median(small_times[i]))})")
    within = [median(ntx_times[i]) / median(raw_times[i]) <= 1.3 for i in range(len(cases))]
    report.target(f"saved queries at {cfg.size_label}, ntx-graph vs pyoxigraph", "each ≤ 1.3 x",
                  f"{sum(within)}/{len(within)} within; worst {worst:.2f} x", all(within))
    if slow:
        lines += ["", "Queries that scale badly (over 0.5 s at this size):", "", *[f"- {s}" for s in slow]]
    return "\n".join(lines)


# -- 4. cold query on a persistent store -------------------------------------------------------


COLD_SCRIPT = ("import sys\nfrom ntx_graph.persistent import open_graph\n"
               "result = open_graph(sys.argv[1]).run(sys.argv[2])\n"
               "sys.stdout.buffer.write(result.serialize('csv'))\n")


def cold_persistent(cfg: Config, report: Report, files: dict[str, Path]) -> str:
    from ntx_graph.persistent import build_store

    directory = cfg.work / "stores" / "cold"
    info = build_store([files["ntriples"]], directory)
    commands: dict[str, list[str | Path]] = {"python -c pass": [EXE, "-c", "pass"]}
    for name in (FLAGSHIP, "primary-uses"):
        commands[f"open_store + run `{name}`"] = [EXE, "-c", COLD_SCRIPT, directory, name]
    help_text = run_process([EXE, "-m", "ntx_graph", "query", "--help"]).stdout
    if "--store" in help_text:
        commands[f"`ntx-graph query {FLAGSHIP} --store DIR`"] = [EXE, "-m", "ntx_graph", "query", FLAGSHIP,
                                                                  "--store", directory, "-f", "csv"]
    row_counts = {}
    for name, cmd in commands.items():
        first = run_process(cmd, timeout=120)
        if first.returncode != 0:
            raise RuntimeError(f"{name}: {first.stderr.strip()[-300:]}")
        row_counts[name] = csv_rows(first.stdout)
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, float] = {name: 0.0 for name in commands}
    names = list(commands)
    for round_number in range(cfg.cold_rounds):
        for name in names[round_number % len(names):] + names[: round_number % len(names)]:
            done = run_process(commands[name], timeout=120)
            times[name].append(done.seconds)
            peaks[name] = max(peaks[name], done.maxrss_mib)
    # once, for scale: a query without parameters that lists every claim of the graph
    everything = run_process([EXE, "-c", COLD_SCRIPT, directory, "claims-with-sources"], timeout=300)
    lines = [
        f"A store built by `build_store` from the generated graph ({info.triples:,} triples, "
        f"built in {info.seconds:.1f} s), then a new process per query that opens it read-only and runs a saved "
        f"query (a `python -c` script with `persistent.open_graph`; the CLI has no `--store` option yet), "
        f"{cfg.cold_rounds} interleaved rounds. For scale, `claims-with-sources`, which lists every claim of the "
        f"graph ({csv_rows(everything.stdout):,} rows), took {fmt_s(everything.seconds)} once "
        f"({everything.maxrss_mib:,.0f} MiB peak).",
        "",
        "| process | median | min | max | peak RSS | rows |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        t = times[name]
        lines.append(f"| {name} | {fmt_s(median(t))} | {fmt_s(min(t))} | {fmt_s(max(t))} | {peaks[name]:.0f} MiB | "
                     f"{row_counts[name] if name != 'python -c pass' else '-'} |")
        if name != "python -c pass" and "claims-with-sources" not in name:
            report.target(f"cold query on a persistent {cfg.size_label} store: {name}", "≤ 0.5 s whole process",
                          fmt_s(median(t)), median(t) <= 0.5)
    return "\n".join(lines)


# -- 5. export ---------------------------------------------------------------------------------


def export(cfg: Config, report: Report, kg: Any, profile_file: Path) -> str:
    from export_prototype import fast_export

    from ntx_graph.graph import KnowledgeGraph

    formats = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}
    contenders: dict[str, Callable[[str], bytes]] = {
        "ntx-graph `KnowledgeGraph.export`": lambda fmt: kg.export(fmt),
        "pyoxigraph `Store.dump`": lambda fmt: kg.store.dump(
            format=formats[fmt], from_graph=ox.DefaultGraph(), prefixes=kg.prefixes if fmt == "turtle" else None),
        "prototype (`benchmarks/export_prototype.py`)": lambda fmt: fast_export(kg.store, fmt, kg.prefixes),
    }
    times: dict[tuple[str, str], list[float]] = {}
    sizes: dict[tuple[str, str], int] = {}
    outputs: dict[tuple[str, str], bytes] = {}
    for round_number in range(cfg.export_rounds):
        for fmt in formats:
            log(f"export round {round_number + 1}: {fmt}")
            for name, work in contenders.items():
                start = time.perf_counter()
                data = work(fmt)
                times.setdefault((name, fmt), []).append(time.perf_counter() - start)
                sizes[(name, fmt)] = len(data)
                if name.startswith("prototype"):
                    if (name, fmt) in outputs and outputs[(name, fmt)] != data:
                        raise RuntimeError("the export prototype is not deterministic")
                    outputs[(name, fmt)] = data
                elif name.startswith("ntx-graph") and fmt == "ntriples":
                    outputs[(name, fmt)] = data
                del data
    current = outputs[("ntx-graph `KnowledgeGraph.export`", "ntriples")].split(b"\n")
    proto = outputs[("prototype (`benchmarks/export_prototype.py`)", "ntriples")].split(b"\n")
    same_graph = sorted(current) == sorted(proto)
    outputs.clear()
    lines = [
        f"The whole in-memory graph ({len(kg):,} triples), {cfg.export_rounds} interleaved rounds, bytes in memory.",
        "",
        "| export | format | median | x `Store.dump` | size |",
        "|---|---|---|---|---|",
    ]
    for fmt in formats:
        dump = median(times[("pyoxigraph `Store.dump`", fmt)])
        for name in contenders:
            m = median(times[(name, fmt)])
            lines.append(f"| {name} | {fmt} | {fmt_s(m)} | {m / dump:.2f} | {sizes[(name, fmt)] / 1e6:.1f} MB |")
            if name.startswith("ntx-graph"):
                report.target(f"export {cfg.size_label} {fmt}: `KnowledgeGraph.export`", "≤ 1.5 x `Store.dump`",
                              f"{m / dump:.2f} x ({fmt_s(m)} vs {fmt_s(dump)})", m / dump <= 1.5)
            if name.startswith("prototype"):
                report.target(f"export {cfg.size_label} {fmt}: prototype", "≤ 1.5 x `Store.dump`",
                              f"{m / dump:.2f} x ({fmt_s(m)})", m / dump <= 1.5)
    lines += ["", f"The prototype's N-Triples hold exactly the lines of `KnowledgeGraph.export`'s "
              f"(compared sorted): {'yes' if same_graph else '**no**'}; two runs give identical bytes: yes."]
    # where KnowledgeGraph.export spends its time (on a smaller graph, under cProfile)
    small = KnowledgeGraph.open([profile_file], validate=False)
    profiler = cProfile.Profile()
    profiler.enable()
    small.export("turtle")
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("tottime").print_stats(8)
    table = [line for line in buffer.getvalue().splitlines() if re.match(r"\s+\d", line)]
    lines += ["", f"cProfile of `KnowledgeGraph.export('turtle')` on {len(small):,} triples, by own time:", "",
              "```", *[line.rstrip() for line in table[:8]], "```"]
    return "\n".join(lines)


# -- 6. HTTP -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()
    except OSError:
        return 0, b""


def _rows(body: bytes) -> int:
    try:
        data = json.loads(body)
    except ValueError:
        return -1
    if "boolean" in data:
        return 1
    return len(data.get("results", {}).get("bindings", []))


def _wrk(url: str, seconds: int) -> dict[str, Any]:
    done = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-H",
                           "Accept: application/sparql-results+json", url],
                          capture_output=True, text=True, timeout=seconds + 60)
    text = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"50%\s+([\d.]+\w+)", text)
    p99 = re.search(r"99%\s+([\d.]+\w+)", text)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:(.*)", text)
    total = re.search(r"(\d+) requests in", text)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": p50.group(1) if p50 else "-",
            "p99": p99.group(1) if p99 else "-", "non2xx": int(bad.group(1)) if bad else 0,
            "errors": errors.group(1).strip() if errors else "", "requests": int(total.group(1)) if total else 0}


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
    bundled = cfg.work / "bundled.ttl"
    help_done = run_process([EXE, "-m", "ntx_graph", "serve", "--help"])
    if help_done.returncode != 0:
        return "Not measured yet: `ntx-graph serve` is not available (" + help_done.stderr.strip()[-200:] + ")."
    servers: dict[str, tuple[list[str | Path], str]] = {}
    port = _free_port()
    servers["ntx-graph serve"] = ([EXE, "-m", "ntx_graph", "serve", "--port", str(port)],
                                  f"http://127.0.0.1:{port}/sparql")
    if shutil.which("oxigraph"):
        location = cfg.work / "oxigraph-http"
        shutil.rmtree(location, ignore_errors=True)
        loaded = run_process(["oxigraph", "load", "--location", location, "--file", bundled])
        if loaded.returncode == 0:
            port = _free_port()
            servers["oxigraph serve-read-only"] = (
                ["oxigraph", "serve-read-only", "--location", location, "--bind", f"127.0.0.1:{port}"],
                f"http://127.0.0.1:{port}/query")
    endpoint = rdflib_endpoint_bin(cfg)
    if endpoint:
        port = _free_port()
        servers["rdflib-endpoint serve"] = ([endpoint, "serve", "--host", "127.0.0.1", "--port", str(port), bundled],
                                            f"http://127.0.0.1:{port}/")
    queries = {FLAGSHIP: query_text(FLAGSHIP), "is-narcotic": query_text("is-narcotic")}
    expected = {FLAGSHIP: 3, "is-narcotic": 1}
    client = "wrk (2 threads, 8 connections)" if shutil.which("wrk") else "a Python client (8 threads, keep-alive)"
    lines = [
        f"Each server holds the bundled graph (2,115 triples) and answers `GET ?query=` on 127.0.0.1; {client}, "
        f"{cfg.http_seconds} s per server and query, JSON results; client and server share the machine's "
        f"{os.cpu_count()} cores. Each answer was checked once before the load.",
        "",
        "| server | query | requests/s | p50 latency | p99 latency | requests | non-2xx | rows |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name, (cmd, base) in servers.items():
        log(f"HTTP: {name}")
        with tempfile.TemporaryFile() as out:
            server = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                      cwd=cfg.work)
            try:
                ready = False
                probe = base + "?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and server.poll() is None:
                    status, _ = _get(probe, timeout=2)
                    if status == 200:
                        ready = True
                        break
                    time.sleep(0.2)
                if not ready:
                    out.seek(0)
                    notes.append(f"- **{name}** did not start: {out.read().decode(errors='replace')[-300:]}")
                    continue
                for query_name, text in queries.items():
                    url = base + "?" + urllib.parse.urlencode({"query": text})
                    status, body = _get(url, timeout=30)
                    rows = _rows(body) if status == 200 else f"HTTP {status}"
                    if rows != expected[query_name]:
                        notes.append(f"- **{name}**, `{query_name}`: answered {rows} rows instead of "
                                     f"{expected[query_name]}: {body[:200]!r}")
                    result = _wrk(url, cfg.http_seconds) if shutil.which("wrk") else _python_load(url, cfg.http_seconds)
                    lines.append(f"| {name} | `{query_name}` | {result['rps']:,.0f} | {result['p50']} | "
                                 f"{result['p99']} | {result['requests']:,} | {result['non2xx']} | {rows} |")
                    if result["errors"]:
                        notes.append(f"- {name}, `{query_name}`: socket errors {result['errors']}")
            finally:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------------


#: The order of the report's sections (they run in another order: those that start
#: processes first, before the benchmark process holds the large graph).
REPORT_ORDER = ["cli", "load", "queries", "cold", "export", "http"]

NOTES = """## Reading the numbers

- The machine has 2 cores and is shared with other work (the load average at the start and the end is
  above). Medians of interleaved runs damp that noise but do not remove it: compare the ratios measured
  within one run rather than absolute times across runs.
- Loading: raw pyoxigraph (`Store().load`) is the ceiling for an in-memory store on this machine, and its
  peak RSS is mostly the store itself. The *proposed* row is an alternative in-memory path (the parser
  streamed into `Store.bulk_extend`). `build_store` parses in chunks of 50,000 quads (for progress,
  prefixes and per-file blank nodes), bulk-loads each into RocksDB and compacts the store at the end
  (`Store.optimize`); its memory stays flat whatever the size of the input, and its speed is bounded by
  pyoxigraph's on-disk bulk loader, which keeps both cores busy.
- Saved queries: `KnowledgeGraph.run` adds a fixed cost per call (lexical scans of the query text for
  updates and federation, one class-check ASK per IRI parameter, conversion of the rows), a fraction of a
  millisecond that shows as a ratio only on sub-millisecond queries. A query whose time grows from
  milliseconds on the bundled graph to a large fraction of a second here scales with the whole graph
  even though its drug is bound.
- Export: the profile shows where `KnowledgeGraph.export` spends its time; the prototype is the
  byte-sorted N-Triples path of `benchmarks/export_prototype.py`, kept as a reference.
- HTTP: the client and the server share the same 2 cores, so these are lower bounds for a dedicated server.
"""

HOW_TO = """## Running the benchmarks

```sh
python benchmarks/run.py            # full run: 1M triples, about 15 minutes; rewrites BENCHMARKS.md
python benchmarks/run.py --quick    # ~100k triples and fewer rounds, about 2 minutes; prints the report
```

`benchmarks/run.py` generates the synthetic graph (`tests/support/generate.py`, 10,000 drugs, seed 0), runs
every measurement with its contenders interleaved, and writes this file. `benchmarks/tasks.py` holds the
tasks that need their own process (loads, whose peak memory is read with `os.wait4`; rdflib's query run),
`benchmarks/rdflib_query.py` is the minimal rdflib peer, and `benchmarks/export_prototype.py` the faster
export measured below. Peers: `roqet` comes from Debian's `rasqal-utils`; Comunica
(`npm i @comunica/query-sparql-file@4`) and `rdflib-endpoint` (in its own virtual environment) are
installed on first use into `~/.cache/ntx-graph-benchmarks` (`--no-install` skips that); `oxigraph`
is the `oxigraph` package from PyPI (a test dependency); `wrk` comes from Debian. HTTP load goes to
127.0.0.1 only and stops after a fixed time. The machine is shared with whatever else runs on it: the
load average is recorded at the start and the end of the run.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer rounds (about 2 minutes)")
    parser.add_argument("--output", type=Path,
                        help="write the report here (default: BENCHMARKS.md for a full run, stdout for --quick)")
    parser.add_argument("--no-install", action="store_true", help="do not install missing peers")
    parser.add_argument("--peers-dir", type=Path, default=Path.home() / ".cache" / "ntx-graph-benchmarks")
    parser.add_argument("--only", action="append", default=[],
                        choices=["cli", "load", "queries", "cold", "export", "http"], help="run only these sections")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ntx-bench-"))
    cfg = Config(quick=args.quick, drugs=1_000 if args.quick else 10_000, cli_rounds=5 if args.quick else 10,
                 load_rounds=1 if args.quick else 3, query_rounds=3 if args.quick else 5,
                 rdflib_timeout=3 if args.quick else 10, export_rounds=2 if args.quick else 3,
                 http_seconds=3 if args.quick else 10, cold_rounds=5 if args.quick else 10, work=work,
                 peers=args.peers_dir, install=not args.no_install)
    started = time.monotonic()
    start_load = os.getloadavg()
    report = Report()
    try:
        log(f"generating {cfg.drugs:,} synthetic drugs into {work}")
        files = {"ntriples": work / "generated.nt", "turtle": work / "generated.ttl"}
        for path in files.values():
            write_generated(path, cfg.drugs, seed=0)
        exported = run_process([EXE, "-m", "ntx_graph", "export", "-o", work / "bundled.ttl"])
        if exported.returncode != 0:
            raise RuntimeError(f"ntx-graph export failed: {exported.stderr.strip()}")
        profile_file = work / "profile.nt"
        write_generated(profile_file, 100, seed=0)
        kg_box: dict[str, Any] = {}

        def graph() -> Any:
            if "kg" not in kg_box:
                from ntx_graph.graph import KnowledgeGraph

                log("loading the generated graph in memory for the query and export sections")
                kg_box["kg"] = KnowledgeGraph.open([files["ntriples"]], validate=False)
            return kg_box["kg"]

        sections: list[tuple[str, str, Callable[[], str]]] = [
            ("cli", "Cold CLI on the bundled graph", lambda: cold_cli(cfg, report)),
            ("load", f"Loading {cfg.size_label} generated triples", lambda: load(cfg, report, files)),
            ("cold", f"Cold query on a persistent {cfg.size_label} store", lambda: cold_persistent(cfg, report, files)),
            ("http", "HTTP throughput", lambda: http(cfg, report)),
            ("queries", f"Saved queries at {cfg.size_label} triples",
             lambda: saved_query_speed(cfg, report, graph(), files)),
            ("export", f"Export of {cfg.size_label} triples", lambda: export(cfg, report, graph(), profile_file)),
        ]
        for key, title, work_fn in sections:
            if args.only and key not in args.only:
                continue
            log(f"section: {title}")
            begin = time.monotonic()
            try:
                body = work_fn()
            except Exception as error:  # one broken section must not lose the others
                traceback.print_exc()
                body = f"This section failed: `{type(error).__name__}: {error}`"
            report.sections.append((key, f"## {title}\n\n{body}\n\n*(section time {time.monotonic() - begin:.0f} s)*"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = time.monotonic() - started
    machine_text = machine(cfg, start_load)
    targets = ["| what | target | measured | |", "|---|---|---|---|",
               *(f"| {w} | {t} | {m} | {v} |" for w, t, m, v in report.targets)]
    text = "\n\n".join([
        "# Benchmarks",
        f"Measured by `python benchmarks/run.py{' --quick' if cfg.quick else ''}` on "
        f"{time.strftime('%Y-%m-%d')} in {total / 60:.1f} minutes; load average at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}. Medians of interleaved runs; the ratios compare "
        "contenders measured side by side in this one run.",
        "## Machine\n\n" + machine_text,
        "## Targets\n\n" + "\n".join(targets),
        *(text for _, text in sorted(report.sections, key=lambda item: REPORT_ORDER.index(item[0]))),
        NOTES.strip(),
        HOW_TO.strip(),
    ]) + "\n"
    output = args.output or (None if cfg.quick else ROOT / "BENCHMARKS.md")
    if output is None:
        sys.stdout.write(text)
    else:
        partial = output.with_name(output.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, output)
        log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
