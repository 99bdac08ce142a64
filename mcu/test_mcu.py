"""``make test-mcu``: real TFLite Micro firmware on an emulated Cortex-M4, checked value by value.

Usage (from the repository root): ``.venv/bin/python mcu/test_mcu.py [--models a,b] [--work DIR]``
or, for a model of your own, ``mcu/test_mcu.py --bundle RUN/model-int8.tflite --run RUN``
(the first ``--requests`` samples of that training run's test split; 0 = all of them).

Builds TFLite Micro + CMSIS-NN for a Cortex-M4F once (cached), then for each int8 model of
the kit (digits ``lenet5``, IMU ``cnn1d`` and keyword ``dscnn`` from tests/fixtures, and a
``resnet8`` on 32x32x3 made here) exports a firmware with ``edgecnn export firmware``, runs
it in ``qemu-system-arm -M mps2-an386`` on recorded inputs and compares with the host
(edgecnn.mcu.conform). Prints one table; exit 0 when every model agrees, 1 when one
does not, 2 when the toolchain or QEMU is missing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
BOARD = "nucleo-l4r5zi"
KIT = ("digits", "imu", "kws", "resnet8")
REQUESTS = 8


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(KIT), help=f"subset of {','.join(KIT)}")
    parser.add_argument("--work", type=Path, help="keep the firmware folders here")
    parser.add_argument("--requests", type=int, default=REQUESTS,
                        help="inputs per model (0 with --run: the whole test split)")
    parser.add_argument("--bundle", type=Path, help="an int8 .tflite with its manifest, instead "
                        "of the kit")
    parser.add_argument("--run", type=Path, help="with --bundle: the training run whose test "
                        "split gives the inputs")
    args = parser.parse_args(argv)
    names = [n for n in args.models.split(",") if n]
    unknown = sorted(set(names) - set(KIT))
    if unknown:
        print(f"unknown kit model(s) {unknown}; choose from {','.join(KIT)}", file=sys.stderr)
        return 2
    if (args.bundle is None) != (args.run is None):
        print("--bundle and --run go together", file=sys.stderr)
        return 2
    if args.requests < (0 if args.run else 1):
        print(f"--requests must be at least 1 (0 = all, with --run), not {args.requests}",
              file=sys.stderr)
        return 2

    from edgecnn.core.errors import EdgecnnError
    from edgecnn.mcu import tflmlib, toolchain

    missing = toolchain.missing_tools(qemu=True)
    if missing:
        print("\n".join(missing), file=sys.stderr)
        return 2
    try:
        tools = toolchain.find_toolchain(qemu=True)
        library = tflmlib.build_library(tools)
    except EdgecnnError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    state = "cached" if library.cached else f"built in {library.build_seconds:.0f} s"
    print(f"TFLite Micro + CMSIS-NN for Cortex-M4F: {library.archive} ({state})", flush=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="edgecnn-test-mcu."))
    try:
        if args.bundle:
            results = [_check_bundle(args.bundle, args.run, work, library, tools, args.requests)]
        else:
            results = [_check(name, work, library, tools, args.requests) for name in names]
    except EdgecnnError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    print(format_table(results))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r.ok for r in results) else 1


def _check(name: str, work: Path, library, tools, requests: int):
    from edgecnn.mcu.conform import check_model

    model, raw = kit_model(name, work / "models", requests)
    result = check_model(model, raw, board=BOARD, work=work / "firmware", library=library,
                         toolchain=tools)
    print(f"{name}: {'agrees' if result.ok else 'DIFFERS'} "
          f"({result.build_seconds:.1f} s build, {result.run_seconds:.1f} s in QEMU)", flush=True)
    return result


def _check_bundle(model: Path, run: Path, work: Path, library, tools, requests: int):
    from edgecnn.mcu.conform import check_model

    raw = run_inputs(model, run, requests)
    result = check_model(model, raw, board=BOARD, work=work / "firmware", library=library,
                         toolchain=tools)
    print(f"{model}: {'agrees' if result.ok else 'DIFFERS'} on {len(raw)} test samples of {run} "
          f"({result.build_seconds:.1f} s build, {result.run_seconds:.1f} s in QEMU)", flush=True)
    return result


def run_inputs(model: Path, run: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` raw test samples of a training run, as the firmware reads them.

    Audio clips (floats on the 16-bit grid) become the int16 PCM the sketch expects.
    """
    from edgecnn.core.manifest import load_manifest
    from edgecnn.training.rundir import RunDir, load_split_arrays

    x = load_split_arrays(RunDir(run)).x["test"]
    x = x[:count] if count > 0 else x
    prep = load_manifest(model).preprocessing
    if prep is not None and prep.audio is not None:
        x = np.clip(np.round(np.asarray(x, np.float64) * 32768), -32768, 32767).astype(np.int16)
    return list(x)


def kit_model(name: str, folder: Path, count: int) -> tuple[Path, list[np.ndarray]]:
    """The int8 bundle of one kit model and ``count`` recorded raw inputs for it."""
    folder.mkdir(parents=True, exist_ok=True)
    if name == "resnet8":
        return make_resnet8(folder), list(_images(count, (32, 32, 3), seed=5))
    stem = {"digits": "digits-lenet5", "imu": "imu-cnn1d", "kws": "kws-dscnn"}[name]
    for suffix in (".tflite", ".json"):
        shutil.copy(FIXTURES / f"{stem}-int8{suffix}", folder)
    inputs = {"digits": _digits, "imu": _imu_windows, "kws": _clips}[name](count)
    return folder / f"{stem}-int8.tflite", inputs


def _digits(count: int) -> list[np.ndarray]:
    from sklearn.datasets import load_digits

    return list(load_digits().images[:count].astype(np.uint8)[..., np.newaxis])


def _imu_windows(count: int) -> list[np.ndarray]:
    """Windows of 32 samples x 3 axes from a recording the fixture never saw (seed 1)."""
    from edgecnn.training.data.synthetic import make_sensor_csv

    with tempfile.TemporaryDirectory() as tmp:
        csv = make_sensor_csv(Path(tmp) / "imu.csv", recordings_per_class=1, seed=1)
        values = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=(3, 4, 5), dtype=np.float32)
    starts = np.linspace(0, len(values) - 32, count).astype(int)
    return [values[s : s + 32] for s in starts]


def _clips(count: int) -> list[np.ndarray]:
    """One-second 16 kHz int16 clips: tone bursts of changing pitch in noise."""
    rng = np.random.default_rng(3)
    t = np.arange(16000) / 16000
    clips = []
    for k in range(count):
        tone = np.sin(2 * np.pi * (300 + 150 * k) * t) * (np.sin(2 * np.pi * 1.5 * t) > 0.3)
        pcm = 0.4 * tone + 0.02 * rng.standard_normal(t.size)
        clips.append(np.clip(np.round(pcm * 32767), -32768, 32767).astype(np.int16))
    return clips


def _images(count: int, shape: tuple[int, ...], *, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield rng.integers(0, 256, size=shape, dtype=np.uint8)


def make_resnet8(folder: Path) -> Path:
    """MLPerf Tiny's ResNet-8 on 32x32x3, trained one epoch on generated images, int8."""
    from edgecnn.optimize.quantize import quantize
    from edgecnn.training.train import train
    from edgecnn.training.trainconfig import TrainConfig

    target = folder / "resnet8-int8.tflite"
    if target.is_file():
        return target
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=300)
    x = rng.integers(0, 256, size=(300, 32, 32, 3)).astype(np.uint8)
    x[..., 0] = np.minimum(255, x[..., 0] // 2 + 12 * y[:, None, None]).astype(np.uint8)
    data = folder / "images32.npz"
    np.savez(data, x=x, y=y)
    run = folder / "resnet8-run"
    train(TrainConfig(data=str(data), model="resnet8", epochs=1), out=run)
    int8 = next(v for v in quantize(run, modes=["int8"]).variants if v.mode == "int8")
    shutil.copy(int8.path, target)
    shutil.copy(Path(int8.path).with_suffix(".json"), target.with_suffix(".json"))
    return target


def format_table(results) -> str:
    head = (f"{'model':<18} {'ok':<3} {'out vs TFLM':>13} {'out vs LiteRT':>16} "
            f"{'input vs host':>16} {'top-1':>6} {'arena used/alloc/est':>22} "
            f"{'flash ELF/TFLM+model/est':>25} {'RAM':>8} {'instr/invoke':>13}")
    lines = [head, "-" * len(head)]
    for r in results:
        arena = f"{r.arena_used_bytes}/{r.arena_allocated_bytes}/{r.arena_estimate_bytes}"
        flash = f"{r.flash_bytes}/{r.flash_tflm_model_bytes}/{r.flash_estimate_bytes}"
        lines.append(
            f"{r.name:<18} {'yes' if r.ok else 'NO':<3} {str(r.output_vs_tflm):>13} "
            f"{str(r.output_vs_litert):>16} {str(r.input_vs_host):>16} "
            f"{r.top1_same:>3}/{r.requests:<2} {arena:>22} {flash:>25} {r.ram_bytes:>8} "
            f"{r.instructions:>13,}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
