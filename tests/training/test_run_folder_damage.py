"""A damaged run folder is one clear line and exit 2, never a traceback: every file edgecnn
reads back from a run folder is checked where it is read (prune, quantize, resume)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.training.rundir import RunDir
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished digits run (1 epoch); each test damages a copy of it."""
    out = tmp_path_factory.mktemp("trained") / "run"
    config = TrainConfig(data="builtin:digits", model="lenet5", epochs=1, batch_size=64)
    train(config, out=out, log=lambda _: None)
    return out


@pytest.fixture()
def run(trained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return RunDir(copy)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line(result, *needles):
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("edgecnn: error: "), result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in last, last


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.slow
def test_prune_refuses_a_corrupt_split_json(run):
    run.split.write_text("{not json")
    result = invoke("prune", run.root, "--ratio", "0.5", "--finetune-epochs", "0")
    assert_one_line(result, "split.json", "not valid JSON", "damaged")


@pytest.mark.slow
def test_a_split_json_that_does_not_match_the_data_is_refused(run):
    edit_json(run.split, lambda split: split["test"].pop())
    result = invoke("prune", run.root, "--ratio", "0.5", "--finetune-epochs", "0")
    assert_one_line(result, "split.json", "test", "data.npz")


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage, needles",
    [
        (lambda r: r.preprocessing.write_text("{x"), ("preprocessing.json", "not valid JSON")),
        (
            lambda r: edit_json(r.preprocessing, lambda p: p.update(kind="video")),
            ("preprocessing.json", "'video'"),
        ),
        (
            lambda r: edit_json(r.preprocessing, lambda p: p.pop("kind")),
            ("preprocessing.json", "kind"),
        ),
        (lambda r: r.config.write_text("[1,2"), ("run.json", "not valid JSON")),
        (lambda r: r.config.write_text("[1, 2]"), ("run.json", "a JSON object")),
        (lambda r: edit_json(r.config, lambda c: c.pop("data")), ("run.json", "'data'")),
        (
            lambda r: r.data.write_bytes(r.data.read_bytes()[:3000]),
            ("data.npz", "truncated or not an .npz"),
        ),
        (lambda r: r.labels.write_text(""), ("labels.txt", "no class names")),
        (lambda r: r.labels.write_text("a\nb\nc\n"), ("labels.txt", "names 3 classes", "9")),
        (
            lambda r: r.labels.write_text("".join(f"{i}\n" for i in range(11))),
            ("labels.txt", "11 class names", "model.keras has 10 outputs"),
        ),
    ],
    ids=["pre-json", "pre-kind", "pre-no-kind", "run-json", "run-list", "run-no-data",
         "npz-truncated", "labels-empty", "labels-3-of-10", "labels-11-of-10"],
)  # fmt: skip
def test_quantize_refuses_a_damaged_run_folder(run, damage, needles):
    damage(run)
    result = invoke("quantize", run.root, "--mode", "fp32")
    assert_one_line(result, *needles)
    assert not list(run.root.glob("*.tflite"))  # refused before anything was written


@pytest.mark.slow
def test_a_data_npz_without_a_split_is_refused(run):
    with np.load(run.data) as data:
        kept = {k: data[k] for k in data.files if k != "y_val"}
    np.savez(run.data.with_suffix(".tmp.npz"), **kept)
    run.data.with_suffix(".tmp.npz").replace(run.data)
    result = invoke("quantize", run.root, "--mode", "fp32")
    assert_one_line(result, "data.npz", "y_val")


def test_resume_refuses_a_damaged_run_json(tmp_path):
    run = RunDir(tmp_path / "run")
    run.root.mkdir()
    run.config.write_text("{oops")
    config = TrainConfig(data="builtin:digits", model="lenet5")
    with pytest.raises(BadInputError, match="run.json.*not valid JSON"):
        train(config, out=run.root, resume=True, log=lambda _: None)


def test_summary_refuses_an_absurd_input_shape_before_building():
    result = invoke("summary", "lenet5", "--input-shape", "100000x100000x3")
    assert_one_line(result, "100000x100000x3", "30,000,000,000 values", "at most 4,194,304")


def test_a_class_name_twice_in_labels_txt_is_one_line_naming_both_lines(tmp_path):
    from edgecnn.training.rundir import load_labels

    run = RunDir(tmp_path)
    run.labels.write_text("yes\nno\nyes\n")
    with pytest.raises(BadInputError, match=r"labels.txt line 3 repeats 'yes' of line 1"):
        load_labels(run)
