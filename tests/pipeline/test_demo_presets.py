"""The demo's two data presets: one code path, the settings each demo keeps."""

import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.pipeline.demo import PRESETS, DemoData, demo_preset
from edgecnn.pipeline.replay import ReplayKind


def test_presets_keep_each_demo_s_data_folder_replay_and_pace():
    digits, keywords = demo_preset("digits"), demo_preset(DemoData.KEYWORDS)
    assert (digits.config["data"], digits.config["model"]) == ("builtin:digits", "vgg_tiny")
    assert (digits.folder, digits.replay, digits.rate_hz) == ("demo", ReplayKind.SAMPLES, 20.0)
    assert (keywords.config["data"], keywords.config["model"]) == ("builtin:keywords", "dscnn")
    assert (keywords.folder, keywords.replay, keywords.rate_hz) == (
        "demo-audio", ReplayKind.CLIPS, 0.0
    )
    assert digits.config["boards"] == keywords.config["boards"]
    assert set(PRESETS) == set(DemoData)


def test_an_unknown_preset_is_refused():
    with pytest.raises(BadInputError, match="unknown demo data 'faces'; use one of digits"):
        demo_preset("faces")
