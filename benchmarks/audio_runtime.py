"""Audio runtime figures for issue 14: ring-buffer cost, real-time factor, per-window split.

Not a test. Two parts, each measured side by side in one run:

(a) The ring buffer's cost per sample (including the window copies when one is due): the
    old ``np.roll`` Windower (copied below as the baseline) against the new ``push()`` and
    ``push_block()``, for a 16 kHz audio window (16000 x 1, hop 320) and an IMU window
    (128 x 6, hop 64), alternating rounds; medians.
(b) With ``--model`` (an audio model bundle): the real-time factor of
    ``edgecnn run MODEL --source replay:WAV --rate 0`` (audio seconds per wall second; hop
    from the manifest) on ``--wav`` or a generated 60 s recording (tones, chirps and noise),
    and the per-window cost split as the runtime does it: front end (the streaming one,
    with the whole-clip front end beside it), scale + quantize, invoke, and the rest
    (source, ring buffer, decode, post-processing, loop).

Run: ``.venv/bin/python benchmarks/audio_runtime.py [--model kws-int8.tflite] [--wav F.wav]``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edgecnn.core.wav import read_wav, write_wav
from edgecnn.device.audiostream import StreamingFrontEnd
from edgecnn.device.io.sources import open_source
from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from edgecnn.device.runner import Runner
from edgecnn.device.windows import Windower, cut_windows

EDGECNN = str(Path(sys.executable).with_name("edgecnn"))
CASES = {  # name: (window, hop, channels, samples streamed per round)
    "audio 16 kHz (16000x1, hop 320)": (16000, 320, 1, 48_000),
    "IMU (128x6, hop 64)": (128, 64, 6, 48_000),
}


class RollWindower:
    """The ring buffer before issue 14: ``np.roll`` copies the whole window every sample."""

    def __init__(self, *, window: int, hop: int, channels: int) -> None:
        self.window, self.hop = window, hop
        self._buffer = np.zeros((window, channels), dtype=np.float64)
        self._filled = self._since_last = 0

    def push(self, sample: np.ndarray) -> np.ndarray | None:
        self._buffer = np.roll(self._buffer, -1, axis=0)
        self._buffer[-1] = sample
        self._filled = min(self._filled + 1, self.window)
        if self._filled < self.window:
            return None
        self._since_last += 1
        if self._since_last == 1 or self._since_last > self.hop:
            self._since_last = 1
            return self._buffer.copy()
        return None


def per_sample_us(push, rows) -> float:
    started = time.perf_counter()
    for row in rows:
        push(row)
    return 1e6 * (time.perf_counter() - started) / len(rows)


def per_sample_block_us(windower: Windower, stream: np.ndarray, block: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(stream), block):
        windower.push_block(stream[start : start + block])
    return 1e6 * (time.perf_counter() - started) / len(stream)


def ring_buffer(rounds: int) -> None:
    """Part (a): microseconds per sample, old vs new, alternating rounds."""
    print(f"(a) ring buffer, microseconds per sample (median of {rounds} alternating rounds)")
    print(f"{'case':<34}{'np.roll push':>14}{'push()':>10}{'push_block':>12}"
          f"{'roll/push':>11}{'roll/block':>12}")  # fmt: skip
    for name, (window, hop, channels, samples) in CASES.items():
        stream = np.random.default_rng(0).normal(size=(samples, channels))
        rows = list(stream)
        times: dict[str, list[float]] = {"roll": [], "push": [], "block": []}
        for _ in range(rounds):
            kwargs = {"window": window, "hop": hop, "channels": channels}
            times["roll"].append(per_sample_us(RollWindower(**kwargs).push, rows))
            times["push"].append(per_sample_us(Windower(**kwargs).push, rows))
            times["block"].append(per_sample_block_us(Windower(**kwargs), stream, hop))
        roll, push, block = (float(np.median(times[k])) for k in ("roll", "push", "block"))
        print(f"{name:<34}{roll:>14.3f}{push:>10.3f}{block:>12.4f}"
              f"{roll / push:>10.1f}x{roll / block:>11.0f}x")  # fmt: skip
    print("push_block: blocks of one hop, as the WAV and microphone sources deliver them")


def make_recording(path: Path, rate: int, seconds: float) -> None:
    """Tones, chirps and noise bursts, one second each, concatenated."""
    rng = np.random.default_rng(0)
    t = np.arange(rate) / rate
    parts = []
    for i in range(int(seconds)):
        kind = i % 3
        if kind == 0:
            part = 0.3 * np.sin(2 * np.pi * rng.uniform(200, 3000) * t)
        elif kind == 1:
            part = 0.3 * np.sin(2 * np.pi * (300 + 1500 * t) * t)
        else:
            part = rng.normal(0, 0.1, rate)
        parts.append(part + rng.normal(0, 0.01, rate))
    write_wav(path, np.clip(np.concatenate(parts), -1, 1), sample_rate_hz=rate)


def real_time_factor(model: Path, wav: Path, audio_s: float, threads: int | None) -> None:
    """``edgecnn run --rate 0`` in its own process: audio seconds per loop/wall second."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [EDGECNN, "run", str(model), "--source", f"replay:{wav}", "--rate", "0",
               "--sink", f"jsonl:{Path(tmp) / 'out.jsonl'}"]  # fmt: skip
        if threads:
            cmd += ["--threads", str(threads)]
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
    line = proc.stderr.strip().splitlines()[-1]
    windows, loop_s = re.match(r"(\d+) windows in ([\d.]+)s", line).groups()
    print(f"$ {' '.join(cmd[1:4])} ... --rate 0\n  {line}")
    print(f"  real-time factor: {audio_s / float(loop_s):.1f}x (audio s per loop s; "
          f"{windows} windows), {audio_s / wall:.1f}x counting process start-up "
          f"({wall:.2f} s wall)")  # fmt: skip


def cost_split(model: Path, wav: Path, threads: int | None) -> None:
    """Mean milliseconds per window of each part as the runtime does them (the streaming
    front end), the whole-clip front end beside it, and the loop's own per-window time."""
    runner = Runner(model, threads=threads)
    pre, tensor_info = runner.preprocessing, runner.model.input
    streaming = StreamingFrontEnd(pre.audio, hop=pre.hop)
    parts = {"front end (streaming)": [], "scale+quantize": [], "invoke": []}
    whole = []
    for window, _ in cut_windows(open_source(f"replay:{wav}", pre, rate_hz=0), pre):
        t0 = time.perf_counter()
        features = streaming(window)
        t1 = time.perf_counter()
        tensor = tensor_info.quantize(pre.transform(features)[np.newaxis])
        t2 = time.perf_counter()
        runner.model.invoke_raw(tensor)
        t3 = time.perf_counter()
        pre.audio.compute(window)
        whole.append(1000 * (time.perf_counter() - t3))
        for key, took in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[key].append(1000 * took)
    summary = run(str(model), source=f"replay:{wav}", sinks=(),
                  options=RunOptions(rate_hz=0, threads=threads), log=lambda _l: None)  # fmt: skip
    loop_ms = 1000 * summary.seconds / summary.windows
    means = {k: float(np.mean(v)) for k, v in parts.items()}
    means["rest (loop - parts)"] = loop_ms - sum(means.values())
    print(f"  per-window split (hop {pre.hop} samples = {1000 * pre.hop / pre.sample_rate_hz:g}"
          f" ms of audio; loop {loop_ms:.3f} ms/window in-process, no sink):")  # fmt: skip
    for key, value in means.items():
        print(f"    {key:<22}{value:>9.3f} ms {100 * value / loop_ms:>6.1f}%")
    print(f"    (whole-clip front end {float(np.mean(whole)):.3f} ms; streaming reused frames "
          f"in {streaming.reused} of {len(whole)} windows)")  # fmt: skip
    print(f"  run summary: p50 feed {summary.p50_feed_ms} ms, p50 inference "
          f"{summary.p50_infer_ms} ms")  # fmt: skip


def model_figures(model: Path, wav: Path | None, seconds: float, threads: int | None) -> None:
    """Part (b)."""
    pre = Runner(model).preprocessing
    if pre.audio is None:
        sys.exit(f"{model} is not an audio model (its manifest has no audio front end)")
    with tempfile.TemporaryDirectory() as tmp:
        if wav is None:
            wav = Path(tmp) / "recording.wav"
            make_recording(wav, pre.audio.sample_rate_hz, seconds)
        audio_s = len(read_wav(wav).samples) / read_wav(wav).sample_rate_hz
        print(f"\n(b) {model.name} on {audio_s:.1f} s of audio ({wav.name}), front end "
              f"{pre.audio.feature_shape} {pre.audio.feature}, hop {pre.hop} samples")  # fmt: skip
        real_time_factor(model, wav, audio_s, threads)
        cost_split(model, wav, threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="an audio model bundle (.tflite)")
    parser.add_argument("--wav", type=Path, help="a recording [a generated one]")
    parser.add_argument("--seconds", type=float, default=60.0, help="generated length")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, help="interpreter threads [LiteRT's]")
    args = parser.parse_args()
    ring_buffer(args.rounds)
    if args.model:
        model_figures(args.model, args.wav, args.seconds, args.threads)


if __name__ == "__main__":
    main()
