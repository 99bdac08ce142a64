"""The Arduino export's C++ audio front end against numpy, on real clips (issue 14's goal).

Not a test. For an audio model bundle (an int8 .tflite with its manifest) this exports the
Arduino sketch, compiles its ``audio_frontend.cpp`` and ``model_io.cpp`` with the host g++
and a small harness (int16 PCM clips in; the C features and the int8 input tensor out), and
runs the same clips through numpy (``Preprocessing.apply`` and the input quantization of
edgecnn's runtime). It prints:

- the largest |C - numpy| feature difference, also in int8 input steps after preprocessing;
- the int8 input values that differ (count / total) and by how many steps at most;
- the top-1 agreement of the two inputs through the real TFLite Micro kernels (tflite-micro),
  and each path's accuracy when the clips have labels.

Clips: ``--run RUNDIR`` (the run's test split from ``data.npz``; edgecnn keeps audio clips on
the 16-bit grid, so they convert to int16 exactly) or ``--wavs FOLDER`` (every ``*.wav`` below
it, resampled to the model's rate and padded or cut as training does; a clip whose folder is
named like a label counts for accuracy).

Run: ``.venv/bin/python benchmarks/audio_frontend_c.py --model RUN/model-int8.tflite
--run RUN`` (or ``--wavs clips/``; ``--json`` for machine output).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgecnn.core.manifest import load_manifest
from edgecnn.core.preprocess import Preprocessing
from edgecnn.core.wav import read_wav
from edgecnn.device.interpreter import TFLiteModel
from edgecnn.export import export_arduino

BOARD = "arduino-nano-33-ble-sense"

HARNESS = r"""
#include <cstdio>

#include "audio_frontend.h"
#include "model_io.h"
#include "model_settings.h"

static int16_t pcm[kRawElements];
static float features[kAudioFeatureCount];
static int8_t input[kInputElements];

// stdin: clips of kRawElements int16 samples. stdout, per clip: its kAudioFeatureCount
// float32 features, then the kInputElements int8 values of the model input.
int main() {
  const size_t clip = static_cast<size_t>(kRawElements);
  while (std::fread(pcm, sizeof(int16_t), clip, stdin) == clip) {
    edgecnn_audio_features(pcm, features);
    FeaturesToInput(features, input);
    std::fwrite(features, sizeof(float), static_cast<size_t>(kAudioFeatureCount), stdout);
    std::fwrite(input, 1, static_cast<size_t>(kInputElements), stdout);
  }
  return 0;
}
"""


@dataclass(frozen=True)
class Comparison:
    """C (exported sketch) against numpy on the same int16 clips."""

    clips: int
    max_feature_diff: float
    max_feature_diff_steps: float  # after preprocessing, in int8 input steps
    int8_differing: int
    int8_total: int
    int8_max_steps: int
    clips_with_int8_diff: int
    top1_agreement: float
    c_accuracy: float | None
    numpy_accuracy: float | None


def build_harness(sketch_dir: Path, work: Path, *, compiler: str = "g++") -> Path:
    """The sketch's model_io.cpp and audio_frontend.cpp linked with HARNESS, for this PC."""
    main = work / "frontend_harness.cpp"
    main.write_text(HARNESS)
    program = work / "frontend_harness"
    sources = [sketch_dir / "model_io.cpp", sketch_dir / "audio_frontend.cpp", main]
    cmd = [compiler, "-std=c++11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{sketch_dir}"]
    done = subprocess.run(
        [*cmd, *map(str, sources), "-o", str(program)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"compiling the harness failed:\n{done.stderr}")
    return program


def c_path(program: Path, pcm: np.ndarray, *, features: int, inputs: int) -> tuple:
    """(C features (n, features) float32, C int8 inputs (n, inputs)) of int16 clips."""
    out = subprocess.run(
        [str(program)], input=pcm.astype("<i2").tobytes(), capture_output=True, check=True
    ).stdout
    record = np.dtype([("f", "<f4", features), ("q", "i1", inputs)])
    rows = np.frombuffer(out, dtype=record)
    if len(rows) != len(pcm):
        raise RuntimeError(f"the harness answered {len(rows)} clips of {len(pcm)}")
    return rows["f"].copy(), rows["q"].copy()


def tflm_top1(tflite: bytes, inputs: np.ndarray, *, arena: int, shape: tuple) -> np.ndarray:
    """Top-1 class of each int8 input through the TFLite Micro interpreter."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(tflite, arena_size=arena)
    top = []
    for q in inputs:
        interpreter.set_input(q.reshape(shape), 0)
        interpreter.invoke()
        top.append(int(np.argmax(interpreter.get_output(0))))
    return np.asarray(top)


def compare(
    model: Path, pcm: np.ndarray, *, program: Path, arena: int, labels: np.ndarray | None = None
) -> Comparison:
    """Runs both paths on int16 clips ``pcm`` (n, clip_samples) and compares them."""
    prep = load_manifest(model).preprocessing
    quantizer = TFLiteModel(model)
    shape = prep.audio.feature_shape
    count = int(np.prod(shape))
    c_features, c_q = c_path(program, pcm, features=count, inputs=count)
    np_features = prep.audio.compute(pcm.astype(np.float32) / 32768).reshape(len(pcm), -1)
    np_q = quantizer.quantize_input(prep.apply(pcm.astype(np.float32) / 32768))
    np_q = np_q.reshape(len(pcm), -1)
    step = quantizer.input.scale
    x_c = prep.transform(c_features.reshape(-1, *shape))
    x_np = prep.transform(np_features.reshape(-1, *shape))
    steps = np.abs(c_q.astype(np.int32) - np_q.astype(np.int32))
    batch_shape = (1, *shape)
    top_c = tflm_top1(model.read_bytes(), c_q, arena=arena, shape=batch_shape)
    top_np = tflm_top1(model.read_bytes(), np_q, arena=arena, shape=batch_shape)
    return Comparison(
        clips=len(pcm),
        max_feature_diff=float(np.max(np.abs(c_features.astype(np.float64) - np_features))),
        max_feature_diff_steps=float(np.max(np.abs(x_c - x_np)) / step),
        int8_differing=int(np.count_nonzero(steps)),
        int8_total=int(steps.size),
        int8_max_steps=int(steps.max()),
        clips_with_int8_diff=int(np.count_nonzero(steps.any(axis=1))),
        top1_agreement=float(np.mean(top_c == top_np)),
        c_accuracy=None if labels is None else float(np.mean(top_c == labels)),
        numpy_accuracy=None if labels is None else float(np.mean(top_np == labels)),
    )


def to_pcm(clips: np.ndarray) -> tuple[np.ndarray, int]:
    """Float clips in [-1, 1] -> int16, and how many samples had to be rounded or clipped."""
    scaled = np.asarray(clips, dtype=np.float64) * 32768
    pcm = np.clip(np.round(scaled), -32768, 32767)
    return pcm.astype(np.int16), int(np.count_nonzero(pcm != scaled))


def clips_from_run(run: Path) -> tuple[np.ndarray, np.ndarray]:
    """The test split of a training run: (clips, labels)."""
    from edgecnn.training.rundir import RunDir, load_split_arrays

    arrays = load_split_arrays(RunDir(run))
    return arrays.x["test"], arrays.y["test"]


def clips_from_wavs(folder: Path, prep: Preprocessing, names: list[str]) -> tuple:
    """Every WAV below ``folder`` at the model's rate and clip length: (clips, labels|None)."""
    from edgecnn.training.data.audio import fit_clip  # training's pad/cut rule

    paths = sorted(folder.rglob("*.wav"))
    if not paths:
        sys.exit(f"no .wav files below {folder}")
    counts = {"padded": 0, "cut": 0}
    audio = prep.audio
    clips = [
        fit_clip(read_wav(p, rate_hz=audio.sample_rate_hz).samples, audio.clip_samples, counts)
        for p in paths
    ]
    labels = [names.index(p.parent.name) if p.parent.name in names else -1 for p in paths]
    known = all(label >= 0 for label in labels)
    return np.stack(clips), (np.asarray(labels) if known else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="audio int8 .tflite")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="training run folder: its test split")
    source.add_argument("--wavs", type=Path, help="folder of .wav clips")
    parser.add_argument("--board", default=BOARD, help=f"MCU board to export for [{BOARD}]")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    compiler = shutil.which("g++")
    if compiler is None:
        sys.exit("g++ is not installed (Debian: apt-get install g++)")
    manifest = load_manifest(args.model)
    prep = manifest.preprocessing
    if prep.audio is None:
        sys.exit(f"{args.model} is not an audio model (preprocessing kind {prep.kind})")
    if args.run:
        clips, labels = clips_from_run(args.run)
    else:
        clips, labels = clips_from_wavs(args.wavs, prep, list(manifest.labels))
    pcm, off_grid = to_pcm(clips)
    with tempfile.TemporaryDirectory() as tmp:
        export = export_arduino(args.model, board=args.board, out=Path(tmp), sketch_name="kws")
        program = build_harness(Path(export.sketch_dir), Path(tmp), compiler=compiler)
        result = compare(
            args.model, pcm, program=program, arena=export.arena_with_margin_bytes, labels=labels
        )
    report(result, off_grid=off_grid, as_json=args.json, source=args.run or args.wavs)


def report(result: Comparison, *, off_grid: int, as_json: bool, source: Path) -> None:
    if as_json:
        print(json.dumps(asdict(result) | {"samples_off_16_bit_grid": off_grid}, indent=2))
        return
    r = result
    share = r.int8_differing / r.int8_total
    print(f"clips                        {r.clips} from {source}")
    if off_grid:
        print(f"samples rounded or clipped   {off_grid} (not on the 16-bit grid)")
    print(
        f"max |C - numpy| feature      {r.max_feature_diff:.2e} "
        f"({r.max_feature_diff_steps:.4f} int8 input steps after preprocessing)"
    )
    print(
        f"int8 input values differing  {r.int8_differing} / {r.int8_total} ({share:.4%}), "
        f"max {r.int8_max_steps} step(s), in {r.clips_with_int8_diff} clip(s)"
    )
    print(f"top-1 agreement (TFLM)       {r.top1_agreement:.4%}")
    if r.c_accuracy is not None:
        print(f"accuracy C / numpy (TFLM)    {r.c_accuracy:.4%} / {r.numpy_accuracy:.4%}")


if __name__ == "__main__":
    main()
