"""A manifest's preprocessing cannot ask for an input or a window past the one input bound.

Before: input_shape [100000, 100000, 3] and a sensor window of 10**12 samples were accepted
from a manifest, to be allocated later by whatever used them.
"""

from __future__ import annotations

import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.core.preprocess import Preprocessing
from edgecnn.core.shapes import MAX_INPUT_VALUES


def test_an_input_shape_past_the_bound_is_refused_in_one_line():
    with pytest.raises(BadInputError) as caught:
        Preprocessing.from_dict({"kind": "image", "input_shape": [100000, 100000, 3]})
    message = str(caught.value)
    assert "\n" not in message and "100000x100000x3" in message
    assert f"at most {MAX_INPUT_VALUES:,}" in message


@pytest.mark.parametrize("name", ["window", "hop"])
def test_a_window_or_hop_past_the_bound_is_refused(name):
    data = {"kind": "sensor", "input_shape": [128, 3], name: 10**12}
    with pytest.raises(BadInputError, match=f"{name} .*at most {MAX_INPUT_VALUES:,}"):
        Preprocessing.from_dict(data)
    data[name] = 128
    assert getattr(Preprocessing.from_dict(data), name) == 128
