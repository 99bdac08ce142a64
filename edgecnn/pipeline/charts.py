"""The report's plots: validation accuracy (what ranks the variants) vs estimated latency per
board, and size per variant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from edgecnn.pipeline.config import Budgets
from edgecnn.pipeline.result import VariantReport
from edgecnn.training.plots import pyplot, save_figure

CHOSEN_COLOUR = "#d62728"
COLOUR = "#1f77b4"
# One colour per model family (matplotlib's tab10 without the chosen variant's red).
FAMILY_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def pareto_front(points: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """The (latency, accuracy, name) points no other point beats on both, fastest first.

    A point is dominated when another is at least as fast and at least as accurate, and
    strictly better on one of the two.
    """
    front = []
    for point in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or point[1] > front[-1][1]:
            front.append(point)
    return front


def plot_tradeoff(
    variants: Sequence[VariantReport],
    boards: Sequence[str],
    budgets: Budgets,
    *,
    references: Mapping[str, float],
    chosen: str | None,
    path: Path,
) -> None:
    """Validation accuracy vs estimated latency, one panel per board (host p50 when no board):
    the figures the choice ranked; ``references`` maps each model family to its Keras
    model's validation accuracy.

    Dashed lines are the latency budget and the lowest accuracy the drop budget allows
    (one per family); the grey line joins the Pareto front across all families; the chosen
    variant is a red star. With several families, each has its own colour and legend entry.
    """
    plt = pyplot()
    colours = family_colours(references)
    panels = list(boards) or [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4), squeeze=False)
    for ax, board in zip(axes[0], panels, strict=True):
        points = _points(variants, board)
        _scatter(ax, points, chosen, colours)
        front = pareto_front([p[:3] for p in points])
        ax.plot([p[0] for p in front], [p[1] for p in front], color="grey", lw=1, zorder=1,
                label="Pareto front")  # fmt: skip
        latest = max((p[0] for p in points), default=0.0)
        limit = budgets.on(board).max_latency_ms if board else None
        _budget_lines(ax, budgets, references, colours, limit=limit, latest=latest)
        title = board or "this machine (measured p50)"
        missing = len(variants) - len(points)
        ax.set_title(title + (f"\n{missing} variant(s) cannot run here" if missing else ""))
        ax.set_xlabel("estimated latency (ms)" if board else "latency p50 (ms)")
        ax.set_ylabel("validation accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    save_figure(fig, path)


def family_colours(families: Sequence[str] | Mapping[str, float]) -> dict[str, str] | None:
    """A colour per family when there are several (None: one family, drawn as always)."""
    names = list(families)
    if len(names) < 2:
        return None
    return {n: FAMILY_COLOURS[i % len(FAMILY_COLOURS)] for i, n in enumerate(names)}


def _points(variants, board: str | None) -> list[tuple[float, float, str, str]]:
    """(latency, validation accuracy, name, family) of each variant that runs on ``board``."""
    points = []
    for v in variants:
        if board is None:
            points.append((v.host_p50_ms, v.val_accuracy, v.name, v.family))
            continue
        row = v.on(board)
        if row is not None and row.fits and row.latency_ms is not None:
            points.append((row.latency_ms, v.val_accuracy, v.name, v.family))
    return points


def _scatter(ax, points, chosen: str | None, colours: dict[str, str] | None) -> None:
    for latency, accuracy, name, family in points:
        is_chosen = name == chosen
        colour = colours[family] if colours else COLOUR
        ax.scatter(
            latency,
            accuracy,
            marker="*" if is_chosen else "o",
            s=160 if is_chosen else 40,
            color=CHOSEN_COLOUR if is_chosen else colour,
            edgecolors=colour if is_chosen and colours else "face",  # the star's family
            zorder=3,
        )
        ax.annotate(name, (latency, accuracy), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)  # fmt: skip
    for family, colour in (colours or {}).items():  # a legend entry per family, drawn or not
        ax.scatter([], [], marker="o", s=40, color=colour, label=f"family {family}")
    if colours and chosen:
        ax.scatter([], [], marker="*", s=160, color=CHOSEN_COLOUR, label="chosen")


def _budget_lines(ax, budgets: Budgets, references, colours, *, limit, latest: float) -> None:
    """Draws the budgets; a latency budget far right of every point is named, not drawn,
    so the points keep the width of the panel."""
    if limit is not None:
        label = f"max latency {limit:g} ms"
        if limit <= 3 * latest or latest == 0:
            ax.axvline(limit, color=CHOSEN_COLOUR, ls="--", lw=1, label=label)
        else:
            ax.plot([], [], color=CHOSEN_COLOUR, ls="--", lw=1, label=f"{label} (off scale)")
    if budgets.max_accuracy_drop is None:
        return
    for family, reference in references.items():  # each family is held to its own model
        floor = reference - budgets.max_accuracy_drop
        colour, name = (colours[family], f"{family} ") if colours else ("darkorange", "")
        ax.axhline(floor, color=colour, ls="--", lw=1, label=f"min accuracy {name}{floor:.4f}")


def plot_sizes(
    variants: Sequence[VariantReport], budgets: Budgets, *, chosen: str | None, path: Path
) -> None:
    """File size per variant (KiB), with the size budget as a dashed line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(variants) + 1.5))
    names = [v.name for v in variants]
    sizes = [v.size_bytes / 1024 for v in variants]
    by_family = family_colours(list(dict.fromkeys(v.family for v in variants))) or {}
    colours = [
        CHOSEN_COLOUR if v.name == chosen else by_family.get(v.family, COLOUR) for v in variants
    ]
    ax.barh(names, sizes, color=colours)
    for y, size in enumerate(sizes):
        ax.text(size, y, f" {size:.1f}", va="center", fontsize=8)
    if budgets.max_size_kb is not None:
        ax.axvline(budgets.max_size_kb, color=CHOSEN_COLOUR, ls="--", lw=1,
                   label=f"max size {budgets.max_size_kb:g} KiB")  # fmt: skip
        ax.legend(fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("size (KiB)")
    ax.set_title("model file size per variant (chosen in red)")
    fig.tight_layout()
    save_figure(fig, path)
