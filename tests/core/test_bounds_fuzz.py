"""Seeded fuzz of the file parsers: 1,000 WAV files and 1,000 manifest edits each.

Every case must read, or be refused by an EdgecnnError in one line: no other exception, and
no allocation past 256 MiB (the cases run in a child whose address space is capped at its
own baseline plus 256 MiB, so an unbounded allocation is a MemoryError there). A failure
names the seed (``wav_case(seed)``, ``manifest_case(seed, ...)`` in tests/fuzz_inputs.py),
which replays the case alone.
"""

from __future__ import annotations

import pytest

from tests.memlimit import run_capped
from tests.testkit import FIXTURES

CASES = 1000
# The child prints one line per case that escaped; the parent shows them.
_CHECK = """
def check(case, call):
    try:
        call()
    except EdgecnnError as exc:
        if "\\n" in str(exc):
            print(f"{case}: a message of several lines: {exc!r:.300}")
    except BaseException as exc:  # MemoryError included: the point of the cap
        print(f"{case}: {type(exc).__name__}: {exc!s:.300}")
"""


def test_random_wav_headers_are_read_or_refused_in_one_line(tmp_path):
    done = run_capped(
        "from edgecnn.core.errors import EdgecnnError\n"
        "from edgecnn.core.wav import read_wav\n"
        "from tests.fuzz_inputs import wav_case\n" + _CHECK,
        f"""
        from pathlib import Path
        path = Path({str(tmp_path / "case.wav")!r})
        for seed in range({CASES}):
            path.write_bytes(wav_case(seed))
            check(f"wav_case({{seed}})", lambda: read_wav(path))
            check(f"wav_case({{seed}}) at 16 kHz", lambda: read_wav(path, rate_hz=16000))
        print("done")
        """,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "done", done.stdout[-3000:]


@pytest.mark.parametrize("fixture", ["digits-lenet5-int8", "kws-dscnn-int8"])
def test_random_manifest_edits_are_loaded_or_refused_in_one_line(tmp_path, fixture):
    model = tmp_path / "model.tflite"
    model.write_bytes((FIXTURES / f"{fixture}.tflite").read_bytes())
    done = run_capped(
        "import json\n"
        "from edgecnn.core.errors import EdgecnnError\n"
        "from edgecnn.core.manifest import load_manifest\n"
        "from tests.fuzz_inputs import manifest_case\n" + _CHECK,
        f"""
        from pathlib import Path
        model = Path({str(model)!r})
        original = json.loads(Path({str(FIXTURES / f"{fixture}.json")!r}).read_text())
        for seed in range({CASES}):
            model.with_suffix(".json").write_bytes(manifest_case(seed, original))
            check(f"manifest_case({{seed}}) of {fixture}", lambda: load_manifest(model))
        print("done")
        """,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "done", done.stdout[-3000:]
