"""PNG plots of training curves and confusion matrices (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.core import fileio, optional


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    matplotlib = optional.require("matplotlib", extra="train")
    matplotlib.use("Agg")
    return optional.require("matplotlib.pyplot", extra="train", package="matplotlib")


def plot_curves(history: dict[str, list[float]], path: Path) -> None:
    """Loss and accuracy per epoch, training and validation side by side."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            if key in history:
                epochs = np.arange(1, len(history[key]) + 1)
                ax.plot(epochs, history[key], style, label=key)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


def plot_confusion(matrix: np.ndarray, labels: list[str], path: Path, *, title: str) -> None:
    """A confusion matrix with counts in the cells (rows: true class)."""
    plt = pyplot()
    size = max(3.5, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels, rotation=45, ha="right")
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), count in np.ndenumerate(matrix):
        colour = "white" if count > threshold else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=colour, fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig, path: Path) -> None:
    """Writes ``fig`` as a PNG atomically and closes it."""
    with fileio.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    pyplot().close(fig)
