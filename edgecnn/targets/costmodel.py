"""Latency cost model: graph counts and board coefficients in, milliseconds out.

    cycles(op) = macs_dense / E + depthwise_factor * macs_depthwise / E + op_overhead
                 [+ bytes moved / bytes_per_cycle, for memory-bound ops on Linux boards]
    latency    = sum(cycles) / clock / thread_speedup

or, for a microcontroller whose model was run on the emulated Cortex-M4F (``--emulate``),
``latency = instructions x CPI / clock`` (:func:`instruction_latency_ms`).

``E`` (MACs per cycle) belongs to a *group*: the CPU core and dtype on Linux boards
(XNNPACK, measured at 4 threads), the kernel library, core and dtype on microcontrollers.
``depthwise_factor`` and ``op_overhead`` are shared by each family (linux, mcu). Fitted
values ship in ``boards/cost-model.json``; ``edgecnn boards calibrate`` stores a user's refit
in the user folder (:func:`edgecnn.targets.boards.user_dir`), which then wins over the
shipped fit. Groups without a published point fall back to priors from shared/reference
(and say so).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.targets.boards import BUILTIN_DIR, Board, user_dir

COST_MODEL_NAME = "cost-model.json"
COST_MODEL_PATH = BUILTIN_DIR / COST_MODEL_NAME  # the shipped fit (read-only when installed)
PUBLISHED_THREADS = 4  # the Raspberry Pi reference figures ran XNNPACK on all four cores
PARALLEL_FRACTION = 0.9  # Amdahl's law for --threads other than 4 (assumed, not fitted)

# MACs per cycle from shared/reference/README.md. Linux: the whole board at 4 threads
# (Pi 4: ~8 GMAC/s fp32, ~22 int8 at 1.5 GHz; Pi 3B+: ~5 and ~12 at 1.4 GHz; Pi 5 ~4.5x Pi 4
# at 2.4 GHz). MCU: per core (CMSIS-NN on M4 0.1-0.35; ESP-NN ~0.5; M0+ ~0.1; reference
# kernels 0.006-0.02).
GROUP_PRIORS: dict[str, float] = {
    "Cortex-A53|float32": 3.6,
    "Cortex-A53|int8": 8.6,
    "Cortex-A72|float32": 5.3,
    "Cortex-A72|int8": 14.7,
    "Cortex-A76|float32": 15.0,
    "Cortex-A76|int8": 41.0,
    "cmsis-nn:Cortex-M4F|int8": 0.2,
    "cmsis-nn:Cortex-M7|int8": 0.7,
    "cmsis-nn:Cortex-M0+|int8": 0.1,
    "esp-nn:Xtensa LX7 + PIE|int8": 0.5,
    "reference:Cortex-M4F|int8": 0.012,
    "reference:Xtensa LX7 + PIE|int8": 0.012,
    "reference:Cortex-M4F|float32": 0.02,
    "reference:Cortex-M0+|float32": 0.005,
    "reference:Cortex-M0+|int8": 0.008,
    "reference:Xtensa LX7 + PIE|float32": 0.02,
}
# Depthwise convs reach 2-5x lower MAC/cycle than dense ones; per-op overhead in cycles.
# bytes_per_cycle: what element-wise, activation and pooling ops (graph.MEMORY_BOUND_OPS)
# read and write per cycle on a Cortex-A with XNNPACK. The prior (1 byte per cycle) is a
# guess the fit can move; the published points (MobileNet v1/v2) hold few such ops.
# Microcontroller kernels are compute-bound: no such term.
FAMILY_PRIORS: dict[str, dict[str, float]] = {
    "linux": {"depthwise_factor": 3.0, "op_overhead_cycles": 20000.0, "bytes_per_cycle": 1.0},
    "mcu": {"depthwise_factor": 3.0, "op_overhead_cycles": 2000.0},
}


@dataclass(frozen=True)
class Coefficients(Record):
    """Fitted (or prior) cost-model coefficients for all groups and families."""

    groups: dict[str, float]
    families: dict[str, dict[str, float]]
    fitted_from: dict[str, list[str]] = field(default_factory=dict)  # group -> board ids
    # Cycles per emulated instruction (see instruction_latency_ms), group -> value, and the
    # boards each was fitted on; groups without a published point have none.
    cpi: dict[str, float] = field(default_factory=dict)
    cpi_fitted_from: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The fields, each group table sorted by group (a refit's file diffs stay small)."""
        return {k: v if k == "families" else dict(sorted(v.items()))
                for k, v in super().to_dict().items()}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Coefficients:
        """The inverse of :meth:`to_dict`; a file from before a table or a family's
        coefficient existed reads as empty or as the prior (hence not the shared route)."""
        return cls(
            groups=dict(data["groups"]),
            # a refit stored before a family gained a coefficient keeps that one's prior
            families={
                name: FAMILY_PRIORS.get(name, {}) | dict(values)
                for name, values in data["families"].items()
            },
            fitted_from=dict(data.get("fitted_from", {})),
            cpi=dict(data.get("cpi", {})),
            cpi_fitted_from=dict(data.get("cpi_fitted_from", {})),
        )

    def basis(self, group: str) -> str:
        """``fitted on <boards>`` or ``prior`` for one group."""
        boards = self.fitted_from.get(group)
        return f"fitted on {', '.join(boards)}" if boards else "prior"

    @classmethod
    def priors(cls) -> Coefficients:
        """Coefficients straight from the published priors."""
        return cls(
            groups=dict(GROUP_PRIORS), families={k: dict(v) for k, v in FAMILY_PRIORS.items()}
        )


def user_cost_model_path() -> Path:
    """Where ``edgecnn boards calibrate`` stores a user's refit."""
    return user_dir() / COST_MODEL_NAME


def cost_model_path() -> Path:
    """The cost model in use: the user's refit when there is one, else the shipped fit."""
    user = user_cost_model_path()
    return user if user.is_file() else COST_MODEL_PATH


def read_cost_model(path: Path) -> dict:
    """A stored cost model (``features`` and ``coefficients``), checked.

    Raises:
        BadInputError: not JSON, or coefficients missing or not positive numbers.
    """
    try:
        data = fileio.read_json(path)
        coefficients = Coefficients.from_dict(data["coefficients"])
        _check(coefficients)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        problem = (
            f"bad JSON ({exc.msg})" if isinstance(exc, json.JSONDecodeError)
            else f"no {exc.args[0]!r} entry" if isinstance(exc, KeyError)
            else exc
        )
        raise BadInputError(
            f"cost model {path} is damaged: {problem}; rerun edgecnn boards calibrate "
            "(or delete it to use the shipped fit)"
        ) from None
    return data


def _check(c: Coefficients) -> None:
    values = [*c.groups.values(), *c.cpi.values()]
    for family in FAMILY_PRIORS:
        values += [c.families[family][k] for k in FAMILY_PRIORS[family]]
    if not all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in values):
        raise ValueError("every coefficient must be a number greater than 0")


def load_coefficients(path: Path | None = None) -> Coefficients:
    """The coefficients in use (see :func:`cost_model_path`), or the priors when none exist."""
    path = path or cost_model_path()
    if not path.exists():
        return Coefficients.priors()
    return Coefficients.from_dict(read_cost_model(path)["coefficients"])


def group_key(board: Board, dtype: str, kernels: str | None = None) -> str:
    """The coefficient group of a board running a dtype (optionally with other kernels)."""
    dtype = (
        "int8"
        if dtype in ("int8", "uint8")
        else "float32"
        if dtype in ("fp32", "float32", "float16")
        else dtype
    )
    if not board.is_mcu:
        return f"{board.core}|{dtype}"
    library = kernels or board.kernels
    if dtype != "int8":  # optimized MCU libraries are int8-only: others use reference kernels
        library = "reference"
    return f"{library}:{board.core}|{'int8' if dtype == 'int16' else dtype}"


def thread_speedup(threads: int) -> float:
    """Amdahl speed-up of ``threads`` over one thread."""
    return 1.0 / ((1 - PARALLEL_FRACTION) + PARALLEL_FRACTION / max(threads, 1))


def op_cycles(
    kind: str, macs: int, *, efficiency: float, family: dict[str, float], moved_bytes: int = 0
) -> float:
    """Cycles of one op; ``moved_bytes`` (its inputs and outputs) counts for memory-bound ops
    in a family that costs them."""
    weight = family["depthwise_factor"] if kind == "depthwise" else 1.0
    cycles = weight * macs / efficiency + family["op_overhead_cycles"]
    if kind == "memory" and "bytes_per_cycle" in family:
        cycles += moved_bytes / family["bytes_per_cycle"]
    return cycles


def latency_ms(
    features: dict,
    board: Board,
    coefficients: Coefficients,
    *,
    threads: int | None = None,
    kernels: str | None = None,
) -> float:
    """Whole-model latency from graph totals (see :meth:`GraphCost.features`)."""
    _, efficiency, family, scale = resolve(board, features["dtype"], coefficients, threads, kernels)
    cycles = (
        features["dense_macs"] + family["depthwise_factor"] * features["depthwise_macs"]
    ) / efficiency + family["op_overhead_cycles"] * features["ops"]
    if "bytes_per_cycle" in family:
        cycles += features.get("memory_bytes", 0) / family["bytes_per_cycle"]
    return 1000.0 * cycles / (board.clock_mhz * 1e6) * scale


def resolve(board, dtype, coefficients, threads, kernels) -> tuple[str, float, dict, float]:
    """Group key, efficiency, family coefficients and thread scale factor for an estimate.

    Raises:
        KeyError: no coefficients (fitted or prior) for the board's group.
    """
    key = group_key(board, dtype, kernels)
    if key not in coefficients.groups:
        raise KeyError(key)
    family = coefficients.families["mcu" if board.is_mcu else "linux"]
    scale = 1.0
    if not board.is_mcu:
        used = min(threads or board.cores, board.cores)
        scale = thread_speedup(PUBLISHED_THREADS) / thread_speedup(used)
    return key, coefficients.groups[key], family, scale


def instruction_latency_ms(
    instructions: int, board: Board, coefficients: Coefficients, *, kernels: str | None = None
) -> float | None:
    """Latency from executed instructions (counted on the emulated Cortex-M4F) x CPI.

    ``cycles = instructions x CPI``: CPI (cycles per instruction) is fitted per group to the
    published latencies of the reference graphs, whose instructions were counted the same
    way. None when the board's group has no CPI (no published point to fit it on).
    """
    cpi = coefficients.cpi.get(group_key(board, "int8", kernels))
    if cpi is None or not board.is_mcu:
        return None
    return 1000.0 * instructions * cpi / (board.clock_mhz * 1e6)
