"""Sensor CSVs: one row per timestamp, cut into fixed windows for a 1-D CNN."""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.csvnumber import csv_number
from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.dataset import RawDataset

TIME_COLUMN_GUESSES = ("time", "timestamp", "t")


@dataclass(frozen=True)
class CsvColumns:
    """Which CSV columns play which role."""

    label: str = "label"
    segment: str | None = None
    time: str | None = None


@dataclass(frozen=True)
class _Table:
    channels: tuple[str, ...]
    values: np.ndarray
    labels: list[str]
    segments: list[str] | None
    times: np.ndarray | None


def load_sensor_csv(
    path: Path,
    *,
    window: int,
    hop: int | None = None,
    columns: CsvColumns = CsvColumns(),
    sample_rate_hz: float | None = None,
) -> RawDataset:
    """Reads a sensor CSV and cuts windows that never cross a recording boundary.

    Recordings are the values of the segment column, or, without one, the runs of rows with
    the same label. A window's label is its recording's label, or the majority label inside
    it when the label changes within a recording.

    Raises:
        DataError: missing label column, non-numeric or NaN/inf values, or no recording as
            long as one window.
    """
    hop = hop or max(1, window // 2)
    if window < 1 or hop < 1:
        raise DataError(f"window ({window}) and hop ({hop}) must be positive sample counts")
    table = _read_table(path, columns)
    segments = _segments(table)
    x, y, groups, spans, names = _cut_windows(path, table, segments, window, hop)
    rate = sample_rate_hz or _estimate_rate(table.times)
    return RawDataset(
        x=x,
        y=y,
        labels=names,
        kind=DataKind.SENSOR,
        source=str(path),
        groups=groups,
        spans=spans,
        info={
            "channels": list(table.channels),
            "window": window,
            "hop": hop,
            "sample_rate_hz": rate,
            "recordings": len(segments),
        },
    )


def _read_table(path: Path, columns: CsvColumns) -> _Table:
    fileio.check_utf8(path, "CSV", DataError)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise DataError(f"{path}: needs a header row and at least one data row")
    header = [name.strip() for name in rows[0]]
    roles = _roles(path, header, columns)
    channel_idx = [i for i, name in enumerate(header) if i not in roles.values()]
    if not channel_idx:
        raise DataError(f"{path}: no sensor channel columns besides {sorted(roles)}")
    values = _numeric(path, rows[1:], channel_idx, header)
    body = rows[1:]
    seg_i, time_i = roles.get("segment"), roles.get("time")
    return _Table(
        channels=tuple(header[i] for i in channel_idx),
        values=values,
        labels=[row[roles["label"]].strip() for row in body],
        segments=None if seg_i is None else [row[seg_i].strip() for row in body],
        times=None if time_i is None else _numeric(path, body, [time_i], header)[:, 0],
    )


def _roles(path: Path, header: list[str], columns: CsvColumns) -> dict[str, int]:
    def find(name: str, option: str) -> int:
        if name not in header:
            raise DataError(
                f"{path}: no column {name!r} (columns: {', '.join(header)}); "
                f"pass {option} with the right name"
            )
        return header.index(name)

    roles = {"label": find(columns.label, "--label-column")}
    if columns.segment is not None:
        roles["segment"] = find(columns.segment, "--segment-column")
    elif "segment" in header:
        roles["segment"] = header.index("segment")
    if columns.time is not None:
        roles["time"] = find(columns.time, "--time-column")
    else:
        guess = next((h for h in header if h.lower() in TIME_COLUMN_GUESSES), None)
        if guess is not None:
            roles["time"] = header.index(guess)
    return roles


def _numeric(path: Path, rows: list[list[str]], idx: list[int], header: list[str]) -> np.ndarray:
    out = np.empty((len(rows), len(idx)), dtype=np.float64)
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise DataError(f"{path}, line {r + 2}: {len(row)} fields, header has {len(header)}")
        for c, col in enumerate(idx):
            try:
                out[r, c] = csv_number(row[col])
            except ValueError:
                raise DataError(
                    f"{path}, line {r + 2}, column {header[col]!r}: {row[col]!r} is not a number"
                ) from None
            if not math.isfinite(out[r, c]):
                raise DataError(
                    f"{path}, line {r + 2}, column {header[col]!r}: {row[col]!r} is NaN or inf; "
                    "clean or drop such rows"
                )
    return out


def _segments(table: _Table) -> list[np.ndarray]:
    """Row indices of each recording, in file order."""
    keys = table.segments if table.segments is not None else _label_runs(table.labels)
    order: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        order.setdefault(key, []).append(row)
    return [np.asarray(rows) for rows in order.values()]


def _label_runs(labels: list[str]) -> list[str]:
    run, keys = 0, []
    for i, label in enumerate(labels):
        if i and label != labels[i - 1]:
            run += 1
        keys.append(str(run))
    return keys


def _cut_windows(path, table, segments, window, hop):
    names = tuple(sorted(set(table.labels)))
    lookup = {name: i for i, name in enumerate(names)}
    x, y, groups, spans = [], [], [], []
    for seg_id, rows in enumerate(segments):
        n = len(rows)
        for start in range(0, n - window + 1, hop):
            idx = rows[start : start + window]
            x.append(table.values[idx])
            y.append(lookup[Counter(table.labels[i] for i in idx).most_common(1)[0][0]])
            groups.append(seg_id)
            spans.append((start / n, (start + window) / n))
    if not x:
        longest = max(len(rows) for rows in segments)
        raise DataError(
            f"{path}: fewer samples than a window: the longest recording has {longest} rows, "
            f"--window is {window}; lower --window or record longer"
        )
    return (
        np.stack(x).astype(np.float32),
        np.asarray(y, dtype=np.int64),
        np.asarray(groups, dtype=np.int64),
        np.asarray(spans, dtype=np.float64),
        names,
    )


def _estimate_rate(times: np.ndarray | None) -> float | None:
    if times is None or len(times) < 2:
        return None
    step = float(np.median(np.diff(times)))
    return round(1.0 / step, 6) if step > 0 else None
