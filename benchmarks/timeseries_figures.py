"""Time-series figures for the issue note: each 1-D zoo family against MiniRocket.

Not a test. Run with ``make bench`` (or ``.venv/bin/python benchmarks/timeseries_figures.py``;
``--quick`` for a smoke run). For each of aeon's bundled classification sets below, the TRAIN
and TEST parts are pooled and exported as a user's sensor CSV ``segment,t,<channels>,label``
(one segment per series, t = sample index). Every 1-D family of the zoo is trained on it with
edgecnn's defaults (window = the padded series length, hop = window: one window per
recording; edgecnn splits by recording, seeded), quantized to int8 with edgecnn's quantize
and tested through LiteRT. MiniRocket (aeon) is then trained on exactly the run's
training + validation windows and tested on exactly its test windows. Prints one table and
the summary lines of the issue's goals, and writes them as JSON (``--out``).
Needs the bench extra: ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError

DATASETS = ("ArrowHead", "ItalyPowerDemand", "JapaneseVowels", "OSULeaf", "PickupGestureWiimoteZ")
QUICK_DATASETS = ("ItalyPowerDemand", "JapaneseVowels")  # short windows, one variable-length
QUICK_EPOCHS = 3
PADDINGS = {  # --pad: how shorter series of a variable-length set are filled to the longest
    "edge": "at the end with the series' own last value, per channel",
    "zero": "at the end with zeros",
}
MCU_BOARD = "arduino-nano-33-ble-sense"
MCU_WINDOW = 128  # the goal's latency/params check applies to windows this short or shorter
INSTALL_HINT = 'pip install -e ".[bench]"'


@dataclass(frozen=True)
class Exported:
    """One data set written as a sensor CSV."""

    name: str
    csv: Path
    window: int
    channels: int
    series: int
    shortest: int


def pad_series(series, pad: str = "edge") -> np.ndarray:
    """(series, T, channels) windows from aeon's layout, padded to the longest series.

    Args:
        series: a (series, channels, length) array, or a list of (channels, length_i)
            arrays for a variable-length set.
        pad: a key of ``PADDINGS``.
    """
    if isinstance(series, np.ndarray) and series.ndim == 3:
        return series.transpose(0, 2, 1)
    longest = max(s.shape[1] for s in series)
    # "edge" repeats the last sample: no artificial step for the models to key on; "zero"
    # leaves one, which marks where a short series ended.
    mode = "edge" if pad == "edge" else "constant"
    padded = [np.pad(s, ((0, 0), (0, longest - s.shape[1])), mode=mode) for s in series]
    return np.stack(padded).transpose(0, 2, 1)


def write_sensor_csv(path: Path, windows: np.ndarray, labels: np.ndarray) -> Path:
    """Writes ``segment,t,c0..,label``: one segment per window, t the sample index."""
    channels = [f"c{i}" for i in range(windows.shape[2])]

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["segment", "t", *channels, "label"])
            for segment, (window, label) in enumerate(zip(windows, labels, strict=True)):
                # tolist(): Python floats, written as their shortest exact repr.
                out.writerows([segment, t, *row, label] for t, row in enumerate(window.tolist()))

    fileio.write_with(path, write)
    return Path(path)


def export(name: str, folder: Path, pad: str = "edge") -> Exported:
    """Pools aeon's TRAIN and TEST parts of ``name`` and writes them as a sensor CSV."""
    from aeon.datasets import load_classification

    x, y = load_classification(name)  # no split given: TRAIN and TEST together
    windows = pad_series(x, pad)
    lengths = [s.shape[-1] for s in x]
    return Exported(
        name=name,
        csv=write_sensor_csv(folder / f"{name}.csv", windows, np.asarray(y)),
        window=windows.shape[1],
        channels=windows.shape[2],
        series=len(windows),
        shortest=min(lengths),
    )


def sequence_families() -> list[str]:
    """Every zoo family that takes sensor windows, in registry order."""
    from edgecnn.training.models.registry import MODELS, InputKind

    return [name for name, spec in MODELS.items() if spec.kind == InputKind.SEQUENCE]


def run_family(data: Exported, family: str, seed: int, folder: Path, training: dict) -> dict:
    """Trains, quantizes to int8 and tests one family on one seeded split."""
    from edgecnn.optimize.quantize import quantize
    from edgecnn.training.train import train
    from edgecnn.training.trainconfig import TrainConfig

    config = TrainConfig.from_options(
        data=str(data.csv), model=family, window=data.window, hop=data.window, seed=seed,
        **training,
    )  # fmt: skip
    run_dir = folder / f"{data.name}-{family}-s{seed}"
    trained = train(config, out=run_dir, log=lambda _line: None)
    int8 = quantize(run_dir, modes=("int8",)).variants[0]
    row = {
        "dataset": data.name, "family": family, "seed": seed, "run_dir": str(run_dir),
        "params": trained.params, "macs": trained.macs, "epochs": trained.epochs_run,
        "keras_accuracy": trained.test_accuracy, "int8_accuracy": int8.accuracy,
        "int8_delta": int8.delta, "int8_val_accuracy": int8.val_accuracy,
        "int8_bytes": int8.size_bytes, "train_seconds": trained.train_seconds,
    }  # fmt: skip
    if data.window <= MCU_WINDOW:
        row |= mcu_estimate(int8.path)
    return row


def mcu_estimate(tflite: str) -> dict:
    """``edgecnn estimate`` of the int8 model on the goal's microcontroller."""
    from edgecnn.targets.estimate import estimate

    (board,) = estimate(tflite, boards=[MCU_BOARD])
    return {"mcu_latency_ms": board.latency_ms, "mcu_arena_bytes": board.arena_bytes,
            "mcu_fits": board.fits}  # fmt: skip


def minirocket(run_dir: str, seed: int) -> dict:
    """MiniRocket on the run's own train+validation windows, tested on its test windows.

    The windows are the raw ones of the run folder (MiniRocket standardizes its features
    itself), so it sees exactly the samples, padding included, that the CNN saw.
    """
    from aeon.classification.convolution_based import MiniRocketClassifier

    from edgecnn.training.rundir import RunDir, load_split_arrays

    arrays = load_split_arrays(RunDir(Path(run_dir)))
    x_fit = np.concatenate([arrays.x["train"], arrays.x["val"]]).transpose(0, 2, 1)
    y_fit = np.concatenate([arrays.y["train"], arrays.y["val"]])
    started = time.perf_counter()
    model = MiniRocketClassifier(random_state=seed).fit(x_fit.astype(np.float64), y_fit)
    predicted = model.predict(arrays.x["test"].transpose(0, 2, 1).astype(np.float64))
    return {
        "minirocket_accuracy": round(float(np.mean(predicted == arrays.y["test"])), 4),
        "minirocket_seconds": round(time.perf_counter() - started, 2),
        "test_samples": len(arrays.y["test"]),
    }


def measure(data: Exported, families: list[str], seeds: int, folder: Path, training) -> list[dict]:
    """One row per family and seed; MiniRocket once per distinct split (families share it)."""
    rows, baselines = [], {}
    for seed in range(seeds):
        for family in families:
            started = time.perf_counter()
            try:
                row = run_family(data, family, seed, folder, training)
            except BadInputError as exc:  # e.g. a window shorter than the family's minimum
                row = {"dataset": data.name, "family": family, "seed": seed, "skipped": str(exc)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
                continue
            run_dir = row.pop("run_dir")  # the folder is gone once the script ends
            split = fileio.read_json(Path(run_dir) / "split.json")
            key = json.dumps([split[s] for s in ("train", "val", "test")])
            if key not in baselines:
                baselines[key] = minirocket(run_dir, seed)
            row |= baselines[key] | {"wall_seconds": round(time.perf_counter() - started, 1)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def _stats(values: list[float]) -> dict:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": round(statistics.fmean(values), 4), "std": round(std, 4), "n": len(values)}


AVERAGED = ("keras_accuracy", "int8_accuracy", "int8_val_accuracy", "minirocket_accuracy",
            "train_seconds", "mcu_latency_ms")  # fmt: skip


def aggregate(data: Exported, rows: list[dict]) -> list[dict]:
    """One table row per family: means and standard deviations over the seeds."""
    table = []
    for family in dict.fromkeys(r["family"] for r in rows):
        mine = [r for r in rows if r["family"] == family]
        done = [r for r in mine if "skipped" not in r]
        row = {"dataset": data.name, "series": data.series, "lengths": [data.shortest, data.window],
               "window": data.window, "channels": data.channels, "family": family}  # fmt: skip
        if not done:
            table.append(row | {"skipped": mine[0]["skipped"]})
            continue
        first = done[0]
        row |= {k: first[k] for k in ("params", "macs", "test_samples")}
        row["max_abs_int8_delta"] = max(abs(r["int8_delta"]) for r in done)
        table.append(row | {k: _stats([r[k] for r in done]) for k in AVERAGED if k in first})
    return table


def summarize(table: list[dict]) -> dict:
    """Per data set the best family (chosen on validation) and the goals' figures."""
    sets = {}
    for name in dict.fromkeys(r["dataset"] for r in table):
        done = [r for r in table if r["dataset"] == name and "skipped" not in r]
        if not done:
            continue
        best = max(done, key=lambda r: (r["int8_val_accuracy"]["mean"], -r["params"]))
        oracle = max(done, key=lambda r: (r["int8_accuracy"]["mean"], -r["params"]))
        mini = best["minirocket_accuracy"]["mean"]
        sets[name] = {
            "best_family": best["family"],
            "best_int8_accuracy": best["int8_accuracy"]["mean"],
            "minirocket_accuracy": mini,
            "gap": round(best["int8_accuracy"]["mean"] - mini, 4),
            "best_by_test_family": oracle["family"],
            "best_by_test_gap": round(oracle["int8_accuracy"]["mean"] - mini, 4),
            "max_abs_int8_delta": max(r["max_abs_int8_delta"] for r in done),
        } | _on_mcu(done)
    gaps = {name: s["gap"] for name, s in sets.items()}
    worst = min(gaps, key=gaps.get) if gaps else None
    mean_gap = round(statistics.fmean(gaps.values()), 4) if gaps else None
    return {"sets": sets, "mean_gap": mean_gap, "worst_set": worst, "worst_gap": gaps.get(worst)}


def _on_mcu(done: list[dict]) -> dict:
    """Where the window is short: the smallest family's int8 params and MCU latency, and
    every family under 100k params and 50 ms (the goal asks for at least one)."""
    if done[0]["window"] > MCU_WINDOW or "mcu_latency_ms" not in done[0]:
        return {}
    small = min(done, key=lambda r: r["params"])
    meeting = [r["family"] for r in done
               if r["params"] < 100_000 and r["mcu_latency_ms"]["mean"] < 50]  # fmt: skip
    return {"smallest_family": small["family"], "smallest_params": small["params"],
            "smallest_mcu_latency_ms": small["mcu_latency_ms"]["mean"],
            "families_meeting_mcu_goal": meeting}  # fmt: skip


def _pm(stat: dict | None, digits: int = 3) -> str:
    if stat is None:
        return "-"
    if stat["n"] < 2:
        return f"{stat['mean']:.{digits}f}"
    return f"{stat['mean']:.{digits}f}±{stat['std']:.{digits}f}"


HEAD = ("data set", "TxC", "family", "params", "MACs", "Keras acc", "int8 acc", "MiniRocket",
        "train s")  # fmt: skip


def print_table(table: list[dict], summary: dict, seeds: int, padding: str) -> None:
    """The one table, then the notes, the per-set best family and the goal lines."""
    lines = [HEAD]
    for r in table:
        cells = (r["dataset"], f"{r['window']}x{r['channels']}", r["family"])
        if "skipped" in r:
            lines.append((*cells, "skipped: " + r["skipped"]))
            continue
        lines.append((*cells, f"{r['params']:,}", f"{r['macs']:,}", _pm(r["keras_accuracy"]),
                      _pm(r["int8_accuracy"]), _pm(r["minirocket_accuracy"]),
                      _pm(r["train_seconds"], 1)))  # fmt: skip
    widths = [max(len(line[i]) for line in lines if len(line) == len(HEAD)) for i in range(9)]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False)).rstrip())
    for note in NOTES:
        print(note.format(padding=padding, seeds=seeds))
    _print_summary(summary)


NOTES = (
    "Windows: one per series, as long as the set's longest; shorter series (JapaneseVowels, "
    "PickupGestureWiimoteZ) are padded {padding}.",
    "MiniRocket (aeon MiniRocketClassifier, random_state = seed) gets the very same padded "
    "windows, raw (unnormalized; edgecnn standardizes per channel on its training split):",
    "trained on the run's training + validation windows, tested on its test windows.",
    "Accuracy: each run's test split (15% of the series, split by recording); mean±std over "
    "{seeds} seed(s), each seed a different split. Keras = fp32.",
    "Best family: highest mean int8 validation accuracy (ties: fewer params), not the test.",
)


def _print_summary(summary: dict) -> None:
    sets = summary["sets"]
    for name, s in sets.items():
        print(f"{name}: best {s['best_family']} int8 {s['best_int8_accuracy']:.3f} vs MiniRocket "
              f"{s['minirocket_accuracy']:.3f}: {s['gap']:+.3f} (best on test: "
              f"{s['best_by_test_family']} {s['best_by_test_gap']:+.3f})")  # fmt: skip
    if summary["mean_gap"] is None:
        return
    print(f"Mean over sets, best family int8 - MiniRocket: {summary['mean_gap']:+.3f} "
          f"(goal >= -0.020); worst set {summary['worst_set']} {summary['worst_gap']:+.3f} "
          "(goal >= -0.050)")  # fmt: skip
    drops = ", ".join(f"{n} {s['max_abs_int8_delta']:.3f}" for n, s in sets.items())
    print(f"Max |int8 - Keras fp32| test accuracy per set, any family/seed (goal <= 0.010): "
          f"{drops}")  # fmt: skip
    for name, s in sets.items():
        if "smallest_family" in s:
            print(f"{name} (window <= {MCU_WINDOW}): smallest {s['smallest_family']} int8 "
                  f"{s['smallest_params']:,} params, {s['smallest_mcu_latency_ms']:.1f} ms "
                  f"estimated on {MCU_BOARD}; under 100k params and 50 ms: "
                  f"{', '.join(s['families_meeting_mcu_goal']) or 'none'}")  # fmt: skip


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", help="comma list of 1-D families (default: all of them)")
    parser.add_argument("--seeds", type=int, default=3, help="splits per data set (default 3)")
    parser.add_argument("--datasets", help=f"comma list among {', '.join(DATASETS)}")
    quick = f"smoke run: 1 seed, {QUICK_EPOCHS} epochs, {len(QUICK_DATASETS)} data sets"
    parser.add_argument("--quick", action="store_true", help=quick)
    # Training options other than edgecnn's defaults, for side-by-side comparisons.
    parser.add_argument("--epochs", type=int, help="edgecnn train --epochs (default: auto)")
    parser.add_argument("--patience", type=int, help="edgecnn train --patience (default: auto)")
    parser.add_argument("--label-smoothing", type=float, help="edgecnn train --label-smoothing")
    parser.add_argument("--augment", help="edgecnn train --augment, e.g. jitter,scale,magwarp")
    parser.add_argument(
        "--pad", choices=sorted(PADDINGS), default="edge", help="variable-length sets: fill with"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/timeseries_figures.json"))
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds {args.seeds} must be at least 1")
    args.datasets = _choose(parser, args.datasets, DATASETS, "--datasets") or (
        list(QUICK_DATASETS) if args.quick else list(DATASETS)
    )
    args.families = _choose(parser, args.families, sequence_families(), "--families")
    args.families = args.families or sequence_families()
    return args


def _training_options(args: argparse.Namespace) -> dict:
    names = ("epochs", "patience", "label_smoothing", "augment")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _choose(parser, given: str | None, known, option: str) -> list[str]:
    names = [n.strip() for n in (given or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"{option}: unknown {unknown[0]!r}; choose from {', '.join(known)}")
    return names


def main() -> None:
    if importlib.util.find_spec("aeon") is None:
        sys.exit(f"aeon (the data sets and MiniRocket) is not installed; {INSTALL_HINT}")
    args = _parse_args()
    seeds = 1 if args.quick else args.seeds
    training = {"epochs": QUICK_EPOCHS} if args.quick else _training_options(args)
    started = time.perf_counter()
    rows, table = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            data = export(name, Path(tmp), args.pad)
            found = measure(data, args.families, seeds, Path(tmp) / "runs", training)
            rows += found
            table += aggregate(data, found)
    summary = summarize(table)
    print_table(table, summary, seeds, PADDINGS[args.pad])
    wall = round(time.perf_counter() - started, 1)
    print(f"Wall time: {wall} s; JSON: {args.out}")
    settings = {"datasets": args.datasets, "families": args.families, "seeds": seeds,
                "training": training or "defaults", "padding": PADDINGS[args.pad]}  # fmt: skip
    report = {"settings": settings, "wall_seconds": wall, "table": table, "summary": summary}
    report["runs"] = rows
    fileio.write_json(args.out, report)


if __name__ == "__main__":
    main()
