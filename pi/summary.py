"""Prints the figures of a make test-pi run: per emulated CPU against the host's results.

Usage: ``.venv/bin/python pi/summary.py KIT RESULTS CPU...`` (RESULTS/CPU/results.json).
"""

from __future__ import annotations

import sys
from pathlib import Path

from edgecnn.core import fileio
from edgecnn.device.conformance.compare import compare, lsb_text


def summarize(kit: Path, results: Path, cpus: list[str]) -> list[str]:
    """One line per CPU: fp32 max difference, int8 LSB histogram, top-1, start-up time."""
    expected = fileio.read_json(kit / "expected" / "results.json")
    host_start = expected["startup_s"].get("median")
    lines = [
        f"{'cpu':<12}{'fp32 max |diff|':>16}  {'int8 LSB off (values)':<24}{'top-1':>10}"
        f"{'run start-up':>15}{'host':>9}  verdict"
    ]
    for cpu in cpus:
        path = results / cpu / "results.json"
        if not path.exists():
            lines.append(f"{cpu:<12}no results ({path} is missing)")
            continue
        device = fileio.read_json(path)
        lines.append(f"{cpu:<12}" + _figures(device, expected, host_start))
    return lines


def _figures(device: dict, expected: dict, host_start: float | None) -> str:
    comparison = compare(device, expected)
    fp32 = max((c.max_abs_diff for c in comparison.cases if not c.integer), default=0.0)
    lsb: dict[int, int] = {}
    for c in comparison.cases:
        for k, v in (c.lsb_counts or {}).items():
            lsb[k] = lsb.get(k, 0) + v
    cases = comparison.cases
    top1 = f"{sum(c.top1_agree for c in cases)}/{sum(c.windows for c in cases)}"
    start = device["startup_s"].get("median")
    verdict = "PASS" if comparison.passed else "FAIL"
    return f"{fp32:>16.3g}  {lsb_text(lsb):<24}{top1:>10}{start:>13} s{host_start:>7} s  {verdict}"


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    lines = summarize(Path(argv[0]), Path(argv[1]), argv[2:])
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
