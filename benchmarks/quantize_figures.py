"""Quantization figures for the issue note: accuracy and size of each variant vs Keras.

Not a test. Trains with default settings on builtin:digits and on a generated sensor CSV,
then quantizes every mode and prints one JSON line per variant. Size ratios are measured
on a model with more than 100k parameters (vgg_tiny at width 2). The sensor set has noise
1.0 so that it is not trivially separable (about 94% for cnn1d).
Run: ``.venv/bin/python benchmarks/quantize_figures.py``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from edgecnn.optimize.quantize import quantize
from edgecnn.training.data.sources import DataOptions
from edgecnn.training.data.synthetic import make_sensor_csv
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig

MODES = ["fp32", "fp16", "dynamic", "int8", "int16x8"]


def report(name: str, config: TrainConfig, folder: Path) -> None:
    """Trains, quantizes every mode and prints a line per variant."""
    trained = train(config, out=folder / name, log=lambda _line: None)
    result = quantize(folder / name, modes=MODES)
    fp32 = next(v for v in result.variants if v.mode == "fp32")
    for v in result.variants:
        print(
            json.dumps(
                {
                    "dataset": name,
                    "model": config.model,
                    "params": trained.params,
                    "mode": v.mode,
                    "keras_accuracy": v.keras_accuracy,
                    "accuracy": v.accuracy,
                    "delta_vs_keras": v.delta,
                    "delta_vs_fp32": round(v.accuracy - fp32.accuracy, 4),
                    "agreement": v.agreement,
                    "size_bytes": v.size_bytes,
                    "size_ratio_vs_fp32": round(v.size_bytes / fp32.size_bytes, 3),
                }
            ),
            flush=True,
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = make_sensor_csv(
            folder / "imu.csv", recordings_per_class=6, samples_per_recording=600, noise=1.0
        )
        report("digits", TrainConfig(data="builtin:digits", model="vgg_tiny"), folder)
        report(
            "sensor",
            TrainConfig(
                data=str(csv_path), model="cnn1d", data_options=DataOptions(window=64, hop=32)
            ),
            folder,
        )
        report(
            "digits-wide", TrainConfig(data="builtin:digits", model="vgg_tiny", width=2.0), folder
        )


if __name__ == "__main__":
    main()
