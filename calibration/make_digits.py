"""Rebuilds calibration/digits.npz: 200 class-balanced training samples of builtin:digits.

Drawn from the training split that ``edgecnn train --data builtin:digits`` makes with its
default seed (0), preprocessed as training does (pixel values / 16), so it never overlaps
that run's test split. Run: ``.venv/bin/python calibration/make_digits.py``.
"""

from pathlib import Path

import numpy as np

from edgecnn.optimize.calibration import draw_balanced
from edgecnn.training.data.sources import load_data
from edgecnn.training.data.split import split_dataset
from edgecnn.training.prepare import fit_preprocessing

COUNT = 200


def main() -> None:
    ds = load_data("builtin:digits")
    split = split_dataset(ds, seed=0)
    preprocessing = fit_preprocessing(ds, split.train)
    x = preprocessing.apply(ds.x[split.train])
    samples = draw_balanced(x, ds.y[split.train], count=COUNT, seed=0)
    out = Path(__file__).with_name("digits.npz")
    np.savez_compressed(out, x=samples.astype(np.float32))
    print(f"wrote {out}: {samples.shape}, range {samples.min():.3f}..{samples.max():.3f}")


if __name__ == "__main__":
    main()
