"""The whole check: run a kit here, compare with the reference, describe it for people."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.device.conformance.compare import Comparison, compare, lsb_text
from edgecnn.device.conformance.kit import load_kit
from edgecnn.device.conformance.measure import measure


@dataclass(frozen=True)
class CheckResult:
    """Results measured here, the reference's, and the comparison (None without a reference)."""

    out: Path
    results: dict
    expected: dict | None
    comparison: Comparison | None

    def to_dict(self) -> dict:
        """A JSON-ready summary (the raw outputs stay in ``out/results.json``)."""
        return {
            "results": str(self.out / "results.json"),
            "doctor": self.results["doctor"],
            "version": self.results["version"],
            "startup_s": self.results["startup_s"],
            "reference_startup_s": (self.expected or {}).get("startup_s"),
            "benchmark": self.results["benchmark"],
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
        }


def run_check(
    kit_dir: str | Path, *, out: str | Path | None = None, startup_repeats: int = 3, log=None
) -> CheckResult:
    """Runs the kit in ``kit_dir`` here, writing results to ``out`` (default: KIT/results).

    Raises:
        BadInputError: not a kit, or an unreadable reference.
    """
    kit = load_kit(kit_dir)
    out = Path(out) if out else kit.root / "results"
    if out.resolve() == kit.expected_path.parent.resolve():
        expected = None  # writing the reference itself
    else:
        expected = _read_expected(kit.expected_path)
    results = measure(kit, out=out, startup_repeats=startup_repeats, log=log)
    comparison = None if expected is None else compare(results, expected)
    return CheckResult(out, results, expected, comparison)


def _read_expected(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return fileio.read_json(path)
    except ValueError as exc:
        raise BadInputError(f"the kit's reference {path} is not valid JSON: {exc}") from None


def format_check(check: CheckResult) -> str:
    """A table of the comparison, start-up times, the benchmark note and the verdict."""
    lines = [f"edgecnn --version: {check.results['version']}"]
    ref = check.expected
    if ref is None or check.comparison is None:
        lines.append(f"no reference in the kit: results written to {check.out}, nothing compared")
    else:
        where = ref["doctor"]
        lines.append(
            f"reference: {where['arch']} {where.get('cpu') or ''}, Python {where['python']}, "
            f"{where['interpreter']} {where['interpreters'].get(where['interpreter'] or '', '')}"
        )
        lines += _table(check.comparison)
    lines.append(_startup_line(check.results, ref))
    bench = check.results["benchmark"]
    lines.append(f"edgecnn benchmark --json: {len(bench['rows'])} model(s); {bench['note']}")
    if check.comparison is not None:
        lines += [f"problem: {p}" for p in check.comparison.problems]
        verdict = "PASS" if check.comparison.passed else "FAIL"
        lines.append(f"conformance: {verdict} (results in {check.out / 'results.json'})")
    return "\n".join(lines)


def _table(comparison: Comparison) -> list[str]:
    lines = [f"{'case':<14}{'windows':>8}{'max diff':>12}  {'LSB off (values)':<24}{'top-1':>9}"]
    for c in comparison.cases:
        diff = f"{c.max_abs_diff:.0f} LSB" if c.integer else f"{c.max_abs_diff:.2g}"
        top1 = f"{c.top1_agree}/{c.windows}"
        lines.append(f"{c.name:<14}{c.windows:>8}{diff:>12}  {lsb_text(c.lsb_counts):<24}{top1:>9}")
        lines += [f"  {c.name}: {p}" for p in c.problems]
    return lines


def _startup_line(results: dict, ref: dict | None) -> str:
    here = results["startup_s"].get("median")
    runs = len(results["startup_s"].get("runs", []))
    text = f"edgecnn run start-up (one window, median of {runs}): {here} s here"
    if ref and ref.get("startup_s", {}).get("median") is not None:
        text += f", {ref['startup_s']['median']} s on the reference"
    return text
