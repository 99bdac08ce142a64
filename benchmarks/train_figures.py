"""Training figures for the issue note: accuracy and wall time on this machine.

Not a test. Run with ``make bench`` (or ``.venv/bin/python benchmarks/train_figures.py``).
Trains with default settings, so the numbers are what a user gets out of the box.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from edgecnn.training.data.sources import DataOptions
from edgecnn.training.data.synthetic import make_sensor_csv
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig


def measure(config: TrainConfig, out: Path) -> dict:
    """Trains once and returns accuracy, epochs and wall times."""
    started = time.perf_counter()
    result = train(config, out=out, log=lambda _line: None)
    return {
        "data": config.data if config.data.startswith("builtin") else "generated sensor CSV",
        "model": config.model,
        "seed": config.seed,
        "test_accuracy": result.test_accuracy,
        "epochs": result.epochs_run,
        "fit_seconds": result.train_seconds,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = make_sensor_csv(
            Path(tmp) / "imu.csv", recordings_per_class=6, samples_per_recording=600
        )
        configs = [TrainConfig(data="builtin:digits", model=m) for m in ("lenet5", "vgg_tiny")]
        configs.append(
            TrainConfig(
                data=str(csv_path), model="cnn1d", data_options=DataOptions(window=64, hop=32)
            )
        )
        for config in configs:
            for seed in args.seeds:
                seeded = TrainConfig.from_dict(config.to_dict() | {"seed": seed})
                rows.append(measure(seeded, Path(tmp) / f"{config.model}-{seed}"))
                print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
