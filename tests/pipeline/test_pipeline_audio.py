"""The pipeline on a folder of WAV clips, then the clips replayed through edgecnn run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgecnn import pipeline
from edgecnn.core.wav import read_wav
from edgecnn.pipeline.replay import ReplayKind, replay_chosen
from tests.audio_clips import SMALL, make_clips


@pytest.mark.slow
def test_pipeline_trains_dscnn_on_clips_and_the_runtime_agrees(tmp_path):
    clips = make_clips(tmp_path / "clips", speakers=10)
    config = {
        "data": str(clips), "model": "dscnn", "width": 0.25, "epochs": 3,
        "clip_ms": 250, "audio_features": SMALL, "augment": "timeshift,bgnoise,timemask",
        "modes": ["int8"], "boards": ["arduino-nano-33-ble-sense"], "bench_runs": 2,
    }  # fmt: skip
    result = pipeline.run(config, out=tmp_path / "pipe", log=lambda _: None)
    pre = json.loads((Path(result.run_dir) / "preprocessing.json").read_text())
    assert pre["kind"] == "audio" and pre["input_shape"] == [14, 8, 1]
    assert pre["audio"]["sample_rate_hz"] == 8000 and pre["window"] == 2000

    check = replay_chosen(result, kind=ReplayKind.CLIPS, samples=12, log=lambda _: None)
    assert check.samples >= 3  # every clip of the test split's speakers
    assert check.same_predictions and check.replay_correct == check.pipeline_correct
    written = sorted((tmp_path / "pipe" / "replay-clips").rglob("*.wav"))
    assert len(written) == check.samples
    audio = read_wav(written[0])
    assert audio.sample_rate_hz == 8000 and len(audio.samples) == 2000
    assert np.abs(audio.samples).max() > 0


def test_demo_audio_flag_runs_the_keyword_demo_and_replays_as_fast_as_possible(monkeypatch):
    from click.testing import CliRunner

    from edgecnn.cli import cli
    from edgecnn.pipeline import demo
    from edgecnn.pipeline.replay import ReplayCheck

    class Result:
        def to_dict(self):
            return {"family": "dscnn"}

    calls = {}

    def run_pipeline(preset, out, log):
        calls.update(folder=preset.folder)
        return Result()

    monkeypatch.setattr(demo, "run_demo_pipeline", run_pipeline)

    def replay(result, kind, samples, rate_hz, sink, log):
        calls.update(kind=kind, clips=samples, rate_hz=rate_hz, sink=sink)
        return ReplayCheck("m.tflite", samples, 5, 5, True, 0.1)

    monkeypatch.setattr(demo, "replay_chosen", replay)
    out = CliRunner().invoke(cli, ["demo", "--audio", "--samples", "7", "--json"])
    assert out.exit_code == 0, out.output
    assert calls == {
        "folder": "demo-audio", "kind": ReplayKind.CLIPS, "clips": 7, "rate_hz": 0.0, "sink": None
    }
    assert json.loads(out.output)["replay"]["same_predictions"] is True


def test_audio_keys_in_flags_and_config():
    from edgecnn.cli.pipeline import _pipeline_overrides
    from edgecnn.core.errors import BadInputError
    from edgecnn.pipeline.config import parse_config, parse_flags

    flags = {"data": "clips/", "audio_classes": ("yes,no",), "clip_ms": 500,
             "audio_features": "log_mel"}  # fmt: skip
    config = parse_flags(_pipeline_overrides(flags))
    assert (config.audio_classes, config.clip_ms, config.audio_features) == (
        ("yes", "no"), 500, "log_mel"
    )
    assert config.to_dict()["audio_classes"] == ["yes", "no"]
    for bad, message in [({"audio_classes": ["yes", "yes"]}, "distinct"),
                         ({"clip_ms": 0}, "at least 1")]:  # fmt: skip
        with pytest.raises(BadInputError, match=message):
            parse_config({"data": "clips/", **bad})
