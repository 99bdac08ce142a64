"""Pruning figures for the issue note: what pruning a trained vgg_tiny saves and costs.

Not a test. Run with ``.venv/bin/python benchmarks/prune_figures.py``. Trains vgg_tiny on
builtin:digits with the default options, then prunes it structured (channels) and by
magnitude (single weights), without and with fine-tuning (at two learning rates), and
prints one JSON line per result.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from edgecnn.optimize.prune import prune
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig


def figures(run: Path, *, method: str, ratio: float, epochs: int, **options) -> dict:
    """Prunes the run's model once and returns the ratios that matter for the method."""
    started = time.perf_counter()
    r = prune(run, method=method, ratio=ratio, finetune_epochs=epochs,
              out=f"pruned-{method}-{ratio}.keras", log=lambda _line: None, **options)  # fmt: skip
    row = {
        "method": method,
        "ratio": ratio,
        "finetune_epochs": epochs,
        **options,
        "accuracy_before": r.accuracy_before,
        "accuracy_after": r.accuracy_after,
        "params_ratio": round(r.params_after / r.params_before, 3),
        "macs_ratio": round(r.macs_after / r.macs_before, 3),
        "size_ratio": round(r.size_bytes_after / r.size_bytes_before, 3),
        "gzip_ratio": round(r.gzip_bytes_after / r.gzip_bytes_before, 3),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    if r.sparsity is not None:
        row["sparsity"] = r.sparsity
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="vgg_tiny")
    parser.add_argument("--epochs", type=int, default=4, help="fine-tuning epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--lr-factors",
        type=float,
        nargs="+",
        default=[1.0, 0.3],
        help="fine-tuning lr as multiples of the run's lr (1.0 is the default)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        config = TrainConfig(data="builtin:digits", model=args.model, seed=args.seed)
        trained = train(config, out=run, log=lambda _line: None)
        print(json.dumps({"trained": args.model, "test_accuracy": trained.test_accuracy,
                          "params": trained.params, "macs": trained.macs}), flush=True)  # fmt: skip
        cases = [
            ("structured", 0.5, {}),
            ("structured", 0.5, {"scope": "global"}),
            ("structured", 0.5, {"criterion": "bn"}),
            ("magnitude", 0.8, {}),
        ]
        for method, ratio, options in cases:
            print(json.dumps(figures(run, method=method, ratio=ratio, epochs=0, **options)))
            for lr_factor in args.lr_factors:
                row = figures(run, method=method, ratio=ratio, epochs=args.epochs,
                              lr_factor=lr_factor, **options)  # fmt: skip
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
