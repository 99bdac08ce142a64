"""Runs a kit on this machine: the real ``edgecnn`` commands plus raw outputs via the runtime.

Raw outputs come from the runtime's Python API because ``edgecnn run`` prints rounded
dequantized scores, and the int8 check needs the output tensor's integers.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.device import doctor
from edgecnn.device.conformance.kit import RESULTS_FILE, Case, Kit
from edgecnn.device.interpreter import TensorInfo
from edgecnn.device.io.sources import open_source
from edgecnn.device.probe import delegated
from edgecnn.device.runner import Runner
from edgecnn.device.windows import cut_windows

CLI_TIMEOUT_S = 900  # one emulated command on a slow host; a hang must still end
BENCH_RUNS = 20


def measure(kit: Kit, *, out: Path, startup_repeats: int = 3, log=None) -> dict:
    """Runs every case of ``kit`` here and writes ``out/results.json``; returns the results."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out.mkdir(parents=True, exist_ok=True)
    report = doctor.gather()
    results: dict = {"format": 1, "doctor": report.to_dict(), "version": cli_version()}
    results["cases"] = {}
    for case in kit.cases:
        log(f"conformance: {case.name}: edgecnn run and raw outputs")
        results["cases"][case.name] = measure_case(case, out)
    log("conformance: hash check on a tampered copy, start-up time, benchmark")
    results["tampered"] = tampered_refused(kit.cases[0])
    results["startup_s"] = startup_seconds(kit.cases[0], out, repeats=startup_repeats)
    results["benchmark"] = benchmark_cli([c.model for c in kit.cases], emulated=report.emulation)
    fileio.write_json(out / RESULTS_FILE, results)
    return results


def measure_case(case: Case, out: Path) -> dict:
    """Raw outputs and top-1 through the runtime, and the labels ``edgecnn run`` printed."""
    raw, info, xnnpack = raw_outputs(case.model, case.source)
    jsonl = out / f"run-{case.name}.jsonl"
    jsonl.unlink(missing_ok=True)
    proc, seconds = run_cli(
        ["run", str(case.model), "--source", case.source, "--rate", "0", "--sink", f"jsonl:{jsonl}"]
    )
    lines = _read_jsonl(jsonl)
    return {
        "model": case.model.name,
        "sha256_ok": True,  # Runner refuses a mismatching model before anything runs
        "xnnpack": xnnpack,
        "output": info.to_dict(),
        "raw": raw,
        "top1": [int(np.argmax(r)) for r in raw],
        "run": {
            "exit": proc.returncode,
            "seconds": round(seconds, 3),
            "labels": [line["label"] for line in lines],
            "scores": [line["score"] for line in lines],
            "stderr": _tail(proc.stderr),
        },
    }


def raw_outputs(model: Path, source: str) -> tuple[list[list], TensorInfo, bool]:
    """The output tensor for every window of ``source``, exactly as ``edgecnn run`` cuts them.

    Returns:
        The raw outputs (ints for integer outputs, floats otherwise), the output TensorInfo,
        and whether XNNPACK took the graph.
    """
    runner = Runner(model)
    pre, net = runner.preprocessing, runner.model
    raw = []
    for window, _ in cut_windows(open_source(source, pre, rate_hz=0.0), pre):
        # runner.feed is the runtime loop's own path (tables for 8-bit images).
        raw.append(net.invoke_raw(runner.feed(window))[0].tolist())
    return raw, net.output, delegated(net)


def tampered_refused(case: Case) -> dict:
    """Runs ``edgecnn run`` on a copy of the model with one byte changed: it must exit 2."""
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / case.model.name
        data = bytearray(case.model.read_bytes())
        data[-1] ^= 0xFF
        model.write_bytes(bytes(data))
        shutil.copy(case.model.with_suffix(".json"), model.with_suffix(".json"))
        proc, _ = run_cli(["run", str(model), "--source", case.source, "--max-windows", "1"])
    refused = proc.returncode == 2 and "does not match its manifest" in proc.stderr
    return {"exit": proc.returncode, "refused": refused, "stderr": _tail(proc.stderr)}


def startup_seconds(case: Case, out: Path, *, repeats: int) -> dict:
    """Wall time of ``edgecnn run`` for one window (process start to exit), median of runs."""
    times = []
    for _ in range(repeats):
        sink = out / "startup.jsonl"
        sink.unlink(missing_ok=True)
        proc, seconds = run_cli(
            ["run", str(case.model), "--source", case.source, "--rate", "0", "--max-windows",
             "1", "--sink", f"jsonl:{sink}"]
        )
        if proc.returncode != 0:
            return {"error": _tail(proc.stderr), "runs": times}
        times.append(round(seconds, 3))
    return {"median": statistics.median(times), "runs": times}


def benchmark_cli(models: list[Path], *, emulated: str | None) -> dict:
    """``edgecnn benchmark --json`` on every model; timings are kept but never compared."""
    proc, seconds = run_cli(
        ["benchmark", *map(str, models), "--json", "--runs", str(BENCH_RUNS), "--warmup", "2"]
    )
    try:
        rows = json.loads(proc.stdout) if proc.returncode == 0 else []
    except json.JSONDecodeError:
        rows = []
    note = (
        f"measured under emulation ({emulated}): these timings mean nothing for a real Pi"
        if emulated
        else "measured on this machine"
    )
    return {
        "exit": proc.returncode,
        "rows": rows,
        "seconds": round(seconds, 3),
        "note": note,
        "stderr": _tail(proc.stderr),
    }


def cli_version() -> str:
    """What ``edgecnn --version`` prints here (proves the console script starts)."""
    proc, _ = run_cli(["--version"])
    if proc.returncode != 0:
        raise BadInputError(f"edgecnn --version failed here: {_tail(proc.stderr)}")
    return proc.stdout.strip()


def edgecnn_command() -> list[str]:
    """The ``edgecnn`` console script of this Python, else the one on PATH, else ``-m``."""
    beside = Path(sys.executable).parent / "edgecnn"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("edgecnn")
    return [found] if found else [sys.executable, "-m", "edgecnn"]


def run_cli(args: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    """Runs ``edgecnn ARGS``; returns the finished process and its wall time in seconds."""
    started = time.perf_counter()
    proc = subprocess.run(
        [*edgecnn_command(), *args], capture_output=True, text=True, timeout=CLI_TIMEOUT_S
    )
    return proc, time.perf_counter() - started


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _tail(text: str, lines: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
