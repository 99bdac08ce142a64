"""Pruning figures that need LiteRT: latency ratio of pruned models and int8 gzip sizes.

Not a test. Latencies are measured side by side in one process, alternating rounds between
the original and the pruned model (a noisy shared machine shifts both alike), with one
interpreter thread. Parts:

1. vgg_tiny trained on builtin:digits (8x8x1), structured 0.5 with 4 fine-tune epochs;
2. vgg_tiny and resnet8 at 32x32x3 (untrained: latency does not depend on weights),
   structured 0.5 from the same planner, no fine-tuning;
3. magnitude pruning at 0.8 on the digits model: gzip size of the int8 .tflite.

Run: ``.venv/bin/python benchmarks/prune_latency.py``.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import numpy as np

from edgecnn.core.modes import Mode
from edgecnn.device.bench import sample_input, timed_invokes
from edgecnn.device.interpreter import TFLiteModel
from edgecnn.optimize.convert import convert
from edgecnn.optimize.prune import prune
from edgecnn.optimize.pruning.structured import apply_plan, plan_structured
from edgecnn.optimize.quantize import quantize
from edgecnn.training.models.registry import build_model
from edgecnn.training.summary import summarize
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig

ROUNDS, RUNS = 15, 200


def paired_p50(original: bytes, pruned: bytes) -> tuple[float, float]:
    """Median over alternating rounds of each model's per-round median invoke time (ms)."""
    models = [TFLiteModel(original, threads=1), TFLiteModel(pruned, threads=1)]
    samples = [sample_input(m) for m in models]
    medians: list[list[float]] = [[], []]
    for _ in range(ROUNDS):
        for i, model in enumerate(models):
            medians[i].append(float(np.median(timed_invokes(model, samples[i], RUNS))))
    return float(np.median(medians[0])), float(np.median(medians[1]))


def latency_row(name: str, mode: str, original: bytes, pruned: bytes, **extra) -> dict:
    before, after = paired_p50(original, pruned)
    return {
        "model": name,
        "mode": mode,
        "p50_ms_before": round(before, 4),
        "p50_ms_after": round(after, 4),
        "latency_ratio": round(after / before, 3),
        **extra,
    }


def digits_part(folder: Path) -> None:
    run = folder / "digits"
    train(TrainConfig(data="builtin:digits", model="vgg_tiny"), out=run, log=lambda _l: None)
    result = prune(run, ratio=0.5, finetune_epochs=4, log=lambda _l: None)
    originals = {v.mode: v for v in quantize(run, modes=["fp32", "int8"]).variants}
    pruned = {v.mode: v for v in quantize(run / "pruned.keras", modes=["fp32", "int8"]).variants}
    for mode in ("fp32", "int8"):
        print(
            json.dumps(
                latency_row(
                    "vgg_tiny digits 8x8x1",
                    mode,
                    Path(originals[mode].path).read_bytes(),
                    Path(pruned[mode].path).read_bytes(),
                    macs_ratio=round(result.macs_after / result.macs_before, 3),
                    accuracy_before=originals[mode].accuracy,
                    accuracy_after=pruned[mode].accuracy,
                )
            ),
            flush=True,
        )
    magnitude_part(run, originals["int8"])


def magnitude_part(run: Path, original_int8) -> None:
    sparse = prune(
        run,
        method="magnitude",
        ratio=0.8,
        finetune_epochs=4,
        out="sparse.keras",
        log=lambda _l: None,
    )
    (int8,) = quantize(run / "sparse.keras", modes=["int8"]).variants
    before = len(gzip.compress(Path(original_int8.path).read_bytes(), 9))
    after = len(gzip.compress(Path(int8.path).read_bytes(), 9))
    print(
        json.dumps(
            {
                "model": "vgg_tiny digits, magnitude 0.8",
                "mode": "int8",
                "sparsity": sparse.sparsity,
                "int8_bytes_before": original_int8.size_bytes,
                "int8_bytes_after": int8.size_bytes,
                "int8_gzip_before": before,
                "int8_gzip_after": after,
                "gzip_ratio": round(after / before, 3),
                "accuracy_before": original_int8.accuracy,
                "accuracy_after": int8.accuracy,
            }
        ),
        flush=True,
    )


def wide_part() -> None:
    calibration = np.random.default_rng(0).random((32, 32, 32, 3)).astype(np.float32)
    for name in ("vgg_tiny", "resnet8"):
        model = build_model(name, input_shape=(32, 32, 3), num_classes=10, seed=0)
        thin = apply_plan(model, plan_structured(model, ratio=0.5))
        macs_ratio = summarize(thin).total_macs / summarize(model).total_macs
        for mode in (Mode.FP32, Mode.INT8):
            print(
                json.dumps(
                    latency_row(
                        f"{name} 32x32x3",
                        str(mode),
                        convert(model, mode, calibration=calibration),
                        convert(thin, mode, calibration=calibration),
                        macs_ratio=round(macs_ratio, 3),
                    )
                ),
                flush=True,
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        digits_part(Path(tmp))
    wide_part()


if __name__ == "__main__":
    main()
