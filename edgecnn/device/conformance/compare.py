"""Compares a device's kit results with the reference machine's: the pass/fail rules.

fp32 (float) outputs agree within ``FLOAT_TOL``; integer (int8) outputs within ``INT_LSB``
(XNNPACK requantizes slightly differently on x86 and Arm); top-1 is identical for every
window; ``edgecnn run`` printed the same labels; the hash check refused a tampered model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from edgecnn.core.records import Record

FLOAT_TOL = 1e-5
INT_LSB = 1
SCORE_ROUNDING = 1e-4  # edgecnn run prints scores rounded to 4 decimals


@dataclass(frozen=True)
class CaseComparison(Record):
    """How one case compares.

    Attributes:
        name: the case.
        integer: True when the output is integer (compared in LSB).
        windows: windows compared.
        max_abs_diff: the largest output difference (in LSB for integer outputs).
        lsb_counts: for integer outputs, how many output values differ by 0, 1, 2, ... LSB.
        top1_agree: windows whose top-1 class is the same as on the reference.
        problems: why it fails (empty when it passes).
    """

    name: str
    integer: bool
    windows: int
    max_abs_diff: float
    lsb_counts: dict[int, int] | None
    top1_agree: int
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        """The fields and the verdict."""
        return super().to_dict() | {"passed": self.passed}


@dataclass(frozen=True)
class Comparison(Record):
    """The verdict on a device: per case, and for checks over the whole kit."""

    cases: tuple[CaseComparison, ...]
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems and all(c.passed for c in self.cases)

    @property
    def problem_count(self) -> int:
        """Problems over the whole kit and in every case."""
        return len(self.problems) + sum(len(c.problems) for c in self.cases)

    def to_dict(self) -> dict:
        """The verdict first, then the fields."""
        return {"passed": self.passed} | super().to_dict()


def compare(device: dict, expected: dict) -> Comparison:
    """Compares results from ``measure`` here (``device``) with the reference's."""
    cases = tuple(
        compare_case(name, device.get("cases", {}).get(name), ref)
        for name, ref in expected.get("cases", {}).items()
    )
    return Comparison(cases, tuple(_kit_problems(device)))


def compare_case(name: str, got: dict | None, ref: dict) -> CaseComparison:
    """Compares one case; a missing case or a failed run is a problem, not an exception."""
    integer = np.dtype(ref["output"]["dtype"]).kind in "iu"
    if got is None:
        return CaseComparison(name, integer, 0, float("nan"), None, 0, ("not run here",))
    problems = _run_problems(got, ref)
    a, b = np.asarray(got["raw"], np.float64), np.asarray(ref["raw"], np.float64)
    if a.shape != b.shape:
        problems.append(f"outputs shaped {a.shape}, the reference's {b.shape}")
        return CaseComparison(name, integer, 0, float("nan"), None, 0, tuple(problems))
    diff = np.abs(a - b)
    worst = float(diff.max()) if diff.size else 0.0
    if integer and worst > INT_LSB:
        problems.append(f"int outputs differ by up to {worst:.0f} LSB; allowed {INT_LSB}")
    if not integer and worst > FLOAT_TOL:
        problems.append(f"float outputs differ by up to {worst:.3g}; allowed {FLOAT_TOL:g}")
    top1 = np.argmax(a, axis=1) == np.argmax(b, axis=1) if a.size else np.zeros(0, bool)
    if not top1.all():
        first = int(np.flatnonzero(~top1)[0])
        problems.append(f"top-1 differs in {int((~top1).sum())} window(s), first #{first}")
    lsb = dict(sorted(Counter(int(v) for v in np.round(diff).ravel()).items())) if integer else None
    return CaseComparison(name, integer, len(a), worst, lsb, int(top1.sum()), tuple(problems))


def lsb_text(counts: dict[int, int] | None) -> str:
    """``0:2997 1:3`` (values off by 0 and 1 LSB), with everything beyond 1 LSB as ``>1:N``."""
    if not counts:
        return "-"
    parts = [f"{k}:{v}" for k, v in sorted(counts.items()) if int(k) <= INT_LSB]
    beyond = sum(v for k, v in counts.items() if int(k) > INT_LSB)
    return " ".join(parts + ([f">{INT_LSB}:{beyond}"] if beyond else []))


def _run_problems(got: dict, ref: dict) -> list[str]:
    """Problems with the ``edgecnn run`` side: exit code, labels, scores, XNNPACK."""
    problems = []
    run, ref_run = got["run"], ref["run"]
    if run["exit"] != 0:
        problems.append(f"edgecnn run exited {run['exit']}: {run['stderr']}")
    elif len(run["labels"]) != len(got["raw"]):
        problems.append(
            f"the runtime cut {len(got['raw'])} windows, edgecnn run printed {len(run['labels'])}"
        )
    if run["labels"] != ref_run["labels"]:
        problems.append(_label_problem(run["labels"], ref_run["labels"]))
    elif run["scores"] and max(_score_diffs(run, ref_run)) > _score_tol(ref):
        problems.append(
            f"edgecnn run scores differ by up to {max(_score_diffs(run, ref_run)):.3g}; "
            f"allowed {_score_tol(ref):.3g}"
        )
    if ref.get("xnnpack") and not got.get("xnnpack"):
        problems.append(
            "XNNPACK is not active here but was on the reference; in a chroot mount /sys"
        )
    return problems


def _label_problem(labels: list, ref_labels: list) -> str:
    if len(labels) != len(ref_labels):
        return f"edgecnn run printed {len(labels)} windows, the reference {len(ref_labels)}"
    changed = [i for i, (a, b) in enumerate(zip(labels, ref_labels, strict=True)) if a != b]
    return f"edgecnn run printed other labels in {len(changed)} window(s), first #{changed[0]}"


def _score_diffs(run: dict, ref_run: dict) -> list[float]:
    return [abs(a - b) for a, b in zip(run["scores"], ref_run["scores"], strict=True)]


def _score_tol(ref: dict) -> float:
    """Score tolerance: the output tolerance in probability units plus print rounding."""
    output = ref["output"]
    if np.dtype(output["dtype"]).kind in "iu":
        return INT_LSB * output["scale"] + SCORE_ROUNDING
    return FLOAT_TOL + SCORE_ROUNDING


def _kit_problems(device: dict) -> list[str]:
    """Checks over the whole kit: the version command, the tampered model, the benchmark."""
    problems = []
    if not str(device.get("version", "")).startswith("edgecnn"):
        problems.append(f"edgecnn --version printed {device.get('version')!r}")
    tampered = device.get("tampered", {})
    if not tampered.get("refused"):
        problems.append(
            f"a tampered model was not refused by its manifest's hash check "
            f"(exit {tampered.get('exit')}): {tampered.get('stderr')}"
        )
    bench = device.get("benchmark", {})
    if bench.get("exit") != 0 or len(bench.get("rows", [])) != len(device.get("cases", {})):
        problems.append(f"edgecnn benchmark --json failed (exit {bench.get('exit')})")
    if "error" in device.get("startup_s", {}):
        problems.append(f"edgecnn run failed in the start-up test: {device['startup_s']['error']}")
    return problems
