"""Pipeline figures for the issue note: ``edgecnn demo`` wall time, fresh and reused.

Not a test. Runs the real ``edgecnn demo`` command twice into one temporary folder: the
first run does every step (training included); the second reuses them all. Prints both
wall times, the chosen variant with its figures, and the replay check.
Run: ``.venv/bin/python benchmarks/pipeline_figures.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EDGECNN = Path(sys.executable).with_name("edgecnn")


def timed_demo(folder: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(EDGECNN), "demo", "--out", str(folder), "--rate", "0", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, json.loads(done.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "demo"
        fresh_s, result = timed_demo(folder)
        reused_s, again = timed_demo(folder)
    pipeline, replay = result["pipeline"], result["replay"]
    chosen = next(v for v in pipeline["variants"] if v["name"] == pipeline["chosen"])
    print(f"edgecnn demo, fresh folder: {fresh_s:.1f} s wall (goal < 180 s)")
    steps = again["pipeline"]
    print(f"edgecnn demo, same folder again: {reused_s:.1f} s wall, "
          f"{len(steps['reused'])} steps reused, {len(steps['ran'])} run")  # fmt: skip
    print(f"variants: {len(pipeline['variants'])}; chosen: {chosen['name']}")
    print(f"  test accuracy {chosen['accuracy']} ({chosen['correct']}/{chosen['test_samples']}), "
          f"delta {chosen['delta']:+}, size {chosen['size_bytes'] / 1024:.1f} KiB")  # fmt: skip
    for board in chosen["boards"]:
        arena = board["arena_bytes"] / 1024 if board["arena_bytes"] is not None else float("nan")
        print(f"  {board['board']}: {board['latency_ms']} ms estimated, arena/tensors "
              f"{arena:.1f} KiB, fits={board['fits']} ({board['basis']})")  # fmt: skip
    print(f"replay through edgecnn run: {replay['replay_correct']}/{replay['samples']} correct; "
          f"pipeline evaluation of the same samples: {replay['pipeline_correct']}/"
          f"{replay['samples']}; identical predictions: {replay['same_predictions']}")  # fmt: skip


if __name__ == "__main__":
    main()
