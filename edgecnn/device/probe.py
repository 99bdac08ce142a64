"""A tiny embedded float model that checks the interpreter loads, computes and delegates.

Made by ``tests/fixtures/make_fixtures.py probe``: ``y = x @ w`` with ``w = arange(8) / 8``
shaped 4x2, so ``x = ones(1, 4)`` gives ``[1.5, 2.0]``. Embedded (924 bytes) rather than
shipped as a data file so that it needs no packaging rules.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from dataclasses import dataclass

import numpy as np

from edgecnn.core.records import Record
from edgecnn.device.interpreter import TFLiteModel

PROBE_TFLITE = base64.b64decode(
    "HAAAAFRGTDMUACAAHAAYABQAEAAMAAAACAAEABQAAAAcAAAAjAAAAOQAAADIAQAA2AEAAEgDAAADAAAAAQAAABAAAA"
    "AAAAoAEAAMAAgABAAKAAAADAAAABwAAAA8AAAADwAAAHNlcnZpbmdfZGVmYXVsdAABAAAABAAAAJz///8CAAAABAAA"
    "AAgAAABvdXRwdXRfMAAAAAABAAAABAAAAOb+//8EAAAAAQAAAHgAAAACAAAANAAAAAQAAADc////BQAAAAQAAAATAA"
    "AAQ09OVkVSU0lPTl9NRVRBREFUQQAIAAwACAAEAAgAAAAEAAAABAAAABMAAABtaW5fcnVudGltZV92ZXJzaW9uAAYA"
    "AADgAAAA2AAAAKgAAACYAAAAdAAAAAQAAABu////BAAAAGAAAAAQAAAAAAAAAAgADgAIAAQACAAAABAAAAAkAAAAAA"
    "AGAAgABAAGAAAABAAAAAAAAAAMABgAFAAQAAwABAAMAAAAq3nS9WekYAQDAAAAAgAAAAQAAAAGAAAAMi4yMS4wAADa"
    "////BAAAABAAAAAxLjUuMAAAAAAAAAAAAAAABAAGAAQAAAAAAAYACAAEAAYAAAAEAAAAIAAAAAAAAAAAAIA+AAAAPw"
    "AAQD8AAAA+AADAPgAAID8AAGA/nP7//6D+//8PAAAATUxJUiBDb252ZXJ0ZWQuAAEAAAAUAAAAAAAOABgAFAAQAAwA"
    "CAAEAA4AAAAUAAAAHAAAAGAAAABkAAAAaAAAAAQAAABtYWluAAAAAAEAAAAUAAAAAAAOABQAAAAQAAwACwAEAA4AAA"
    "AQAAAAAAAACAwAAAAQAAAAIP///wEAAAACAAAAAwAAAAAAAAABAAAA/////wEAAAACAAAAAQAAAAAAAAADAAAAmAAA"
    "AEgAAAAEAAAAiv///wAAAAEQAAAAEAAAAAMAAAAgAAAAdP///xEAAABQYXJ0aXRpb25lZENhbGw6MAAAAAIAAAABAA"
    "AAAgAAAMr///8AAAABEAAAABAAAAACAAAAFAAAALT///8GAAAATWF0TXVsAAACAAAAAgAAAAQAAAAAABYAGAAUAAAA"
    "EAAMAAgAAAAAAAAABwAWAAAAAAAAARQAAAAUAAAAAQAAACQAAAAEAAQABAAAABMAAABzZXJ2aW5nX2RlZmF1bHRfeD"
    "owAAIAAAABAAAABAAAAAEAAAAQAAAADAAMAAsAAAAAAAQADAAAAAkAAAAAAAAJ"
)
EXPECTED = (1.5, 2.0)


@dataclass(frozen=True)
class ProbeResult(Record):
    """What the probe model showed about this interpreter.

    Attributes:
        correct: the output matched ``EXPECTED`` within 1e-6.
        xnnpack: the XNNPACK delegate took the graph (a DELEGATE node in the plan).
        output: what the interpreter computed.
    """

    correct: bool
    xnnpack: bool
    output: tuple[float, ...]


def run_probe() -> ProbeResult:
    """Loads the probe with the default delegates and runs it once.

    Raises:
        MissingDependencyError: no LiteRT interpreter package is installed.
    """
    model = TFLiteModel(PROBE_TFLITE)
    out = model.predict_one(np.ones((1, 4), dtype=np.float32))
    output = tuple(round(float(v), 6) for v in out)
    correct = bool(np.allclose(out, EXPECTED, atol=1e-6))
    return ProbeResult(correct, delegated(model), output)


def delegated(model: TFLiteModel) -> bool:
    """True when a delegate (XNNPACK, the only default one) took part of the graph."""
    return "DELEGATE" in model.op_names()


def probe_in_subprocess(timeout: float = 120.0) -> dict:
    """``run_probe`` in a child Python, so that an interpreter crash is reported, not fatal.

    Returns:
        ``ProbeResult.to_dict()``, or ``{"error": ...}`` when the child died (e.g. LiteRT's
        SIGSEGV under qemu-user with an x86 /proc/cpuinfo) or printed no result.
    """
    code = "from edgecnn.device.probe import _main; _main()"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"the probe model did not finish in {timeout:.0f} s"}
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        return {"error": f"the interpreter crashed with {name} while running the probe model"}
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"the probe model failed: {last}"}


def _main() -> None:
    """Prints ``run_probe()`` as JSON (the child side of ``probe_in_subprocess``)."""
    from edgecnn.core.errors import MissingDependencyError

    try:
        print(json.dumps(run_probe().to_dict()))
    except MissingDependencyError as exc:
        print(json.dumps({"error": str(exc)}))
