"""Instruction counts of the reference graphs, from their firmware on the emulated Cortex-M4F.

The counts join the graph's stored features (``instructions``: group -> count) so that a
calibration without ``--emulate`` reuses them; only groups the emulation stands for (CMSIS-NN
on a Cortex-M4F) are counted.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from edgecnn.core.console import to_stderr
from edgecnn.costfit.refgraphs import graph_tflite
from edgecnn.mcu.emulate import count_instructions

EMULATED_GROUPS = ("cmsis-nn:Cortex-M4F|int8",)


def count_reference_instructions(points: list, features: dict) -> None:
    """Counts each emulated group's reference graphs once; stores them in ``features``."""
    wanted = sorted({(p.measurement.graph, p.group) for p in points
                     if p.group in EMULATED_GROUPS})
    for graph, group in wanted:
        with tempfile.TemporaryDirectory(prefix="edgecnn-refgraph.") as tmp:
            model = Path(tmp) / f"{graph}.tflite"
            model.write_bytes(graph_tflite(graph, "int8"))
            count = count_instructions(model)
        to_stderr(f"{graph}: {count.instructions:,} instructions per invoke ({group})")
        features[graph]["int8"].setdefault("instructions", {})[group] = count.instructions
