"""The package layout: old import paths the README showed still work for one release."""

import importlib
import subprocess
import sys

import pytest

MOVED = {
    "edgecnn.preprocess": ("edgecnn.core.preprocess", "Preprocessing"),
    "edgecnn.train": ("edgecnn.training.train", "train"),
    "edgecnn.trainconfig": ("edgecnn.training.trainconfig", "TrainConfig"),
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_import_paths_warn_and_give_the_same_objects(old):
    new, name = MOVED[old]
    code = (
        "import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
        f"try:\n    from {old} import {name}\n"
        "except DeprecationWarning as w:\n    print('warned:', w)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert f"warned: {old} moved to {new}" in out.stdout
    with pytest.warns(DeprecationWarning, match=new):
        sys.modules.pop(old, None)
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)
