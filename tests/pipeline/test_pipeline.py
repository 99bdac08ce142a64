"""The pipeline end to end on a miniature config: train, prune, quantize, evaluate,
benchmark, estimate, select, report; step reuse; the report in a real Chromium; the demo."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgecnn import pipeline
from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.pipeline.steps import STATE_FILE
from tests.chromium_check import check_page

ZERO, NANO = "rpi-zero-2w", "arduino-nano-33-ble-sense"
MINI = {
    "data": "builtin:digits",
    "model": "lenet5",
    "epochs": 2,
    "prune_ratios": [0.0, 0.5],
    "finetune_epochs": 1,
    "modes": ["fp32", "int8"],
    "calibration_samples": 50,
    "boards": [ZERO, NANO],
    "bench_runs": 5,
    "budgets": {"max_arena_kb": 64},
}


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline")
    return pipeline.run(MINI, out=folder, log=quiet), folder


@pytest.mark.slow
def test_every_variant_is_evaluated_benchmarked_and_estimated(mini):
    result, _ = mini
    names = [v.name for v in result.variants]
    assert names == ["model-fp32", "model-int8", "pruned-0.5-fp32", "pruned-0.5-int8"]
    for v in result.variants:
        assert os.path.isfile(v.path) and v.size_bytes == os.path.getsize(v.path)
        assert v.test_samples == 269 and v.accuracy == round(v.correct / 269, 4)
        assert v.host_p50_ms > 0 and [b.board for b in v.boards] == [ZERO, NANO]
        assert v.on(ZERO).fits and v.on(ZERO).latency_ms > 0
    int8, fp32 = result.variants[1], result.variants[0]
    assert int8.on(NANO).fits and int8.on(NANO).arena_bytes > 0
    assert not fp32.on(NANO).fits  # float models are refused on the MCU, with the reason
    assert fp32.size_bytes > 2.5 * int8.size_bytes
    assert result.variants[3].size_bytes < int8.size_bytes  # pruning really shrank it


@pytest.mark.slow
def test_the_chosen_variant_is_the_most_accurate_within_budgets(mini):
    result, _ = mini
    assert result.met
    fitting = [v for v in result.variants if not v.misses]
    assert {v.name for v in fitting} == {"model-int8", "pruned-0.5-int8"}
    # Ranked on the validation split; the test split only reports the winner's accuracy.
    best = max(fitting, key=lambda v: (v.val_accuracy, -v.size_bytes))
    assert result.chosen == best.name and result.chosen in result.why
    assert all(v.val_samples == 269 and 0 < v.val_accuracy <= 1 for v in result.variants)
    assert 0 < result.reference_val_accuracy <= 1
    markdown = Path(result.report_md).read_text()
    assert "ranked on the 269 validation samples" in markdown


@pytest.mark.slow
def test_report_files_hold_table_plots_and_provenance(mini):
    result, folder = mini
    markdown = (folder / "report.md").read_text()
    for text in ("## Variants", "pruned-0.5-int8", "fingerprint", "tensorflow", result.chosen):
        assert text in markdown
    for png in ("accuracy-vs-latency", "sizes", "training-curves", "confusion-chosen"):
        assert (folder / "plots" / f"{png}.png").stat().st_size > 1000
        assert f"plots/{png}.png" in markdown
    html = (folder / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4 and "<script" not in html
    saved = json.loads((folder / "pipeline.json").read_text())
    assert saved["chosen"] == result.chosen and len(saved["variants"]) == 4


@pytest.mark.slow
def test_report_renders_in_headless_chromium(mini):
    result, _ = mini
    page = check_page(f"file://{result.report_html}")
    assert page.errors == []
    assert page.title == "edgecnn pipeline report" and len(page.images) == 4
    assert all(i["complete"] and i["width"] > 100 and i["height"] > 100 for i in page.images)


def test_the_chromium_check_sees_broken_images_and_console_errors(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><head><title>bad</title></head><body><img src="missing.png" alt="x">'
        '<script>console.error("boom")</script></body></html>'
    )
    found = check_page(f"file://{page}")
    assert any("boom" in e for e in found.errors)
    assert found.images == [{"alt": "x", "complete": True, "width": 0, "height": 0}]


@pytest.mark.slow
def test_a_new_budget_reuses_every_step_and_can_leave_nothing(mini):
    result, folder = mini
    state_before = (folder / STATE_FILE).read_text()
    tight = MINI | {"budgets": {"max_latency_ms": 0.001, "max_accuracy_drop": 0.5}}
    again = pipeline.run(tight, out=folder, log=quiet)
    assert again.ran == () and len(again.reused) == len(result.reused) + len(result.ran)
    assert (folder / STATE_FILE).read_text() == state_before
    assert not again.met and again.chosen is None
    assert any(f"max_latency_ms on {NANO}" in line for line in again.unmet)
    assert "No variant met every budget" in (folder / "report.md").read_text()


@pytest.mark.slow
def test_cli_exit_code_3_when_nothing_fits_and_0_when_something_does(mini, tmp_path):
    _, folder = mini
    config = tmp_path / "edgecnn.toml"
    config.write_text(
        "\n".join(f"{k} = {json.dumps(v)}" for k, v in MINI.items() if k != "budgets")
        + "\n[budgets]\nmax_arena_kb = 64\n"
    )
    runner = CliRunner()
    base = ["pipeline", "--config", str(config), "--out", str(folder)]
    ok = runner.invoke(cli, base)
    assert ok.exit_code == 0, ok.output
    assert "<- chosen" in ok.output and "report.html" in ok.output
    assert re.search(r"^model +\S+\.tflite", ok.output, re.MULTILINE)
    nothing = runner.invoke(cli, [*base, "--max-latency-ms", "0.001", "--json"])
    assert nothing.exit_code == 3
    assert json.loads(nothing.stdout)["met"] is False


@pytest.mark.slow
def test_changing_fine_tuning_reruns_pruning_but_not_training(mini, tmp_path):
    result, folder = mini
    changed = pipeline.run(MINI | {"finetune_epochs": 2}, out=folder, log=quiet)
    assert "train" in changed.reused and "prune 0.5" in changed.ran
    assert "quantize model-int8" in changed.reused  # the unpruned model did not change
    assert "quantize pruned-0.5-int8" in changed.ran
    pipeline.run(MINI, out=folder, log=quiet)  # back to the module's config for later tests


@pytest.mark.slow
def test_runtime_replay_agrees_with_the_pipeline_evaluation(mini):
    from edgecnn.pipeline.replay import replay_test_split

    result, _ = mini
    variant = result.chosen_variant
    check = replay_test_split(result, variant, samples=40, log=quiet)
    assert check.samples == 40 and check.same_predictions
    assert check.replay_correct == check.pipeline_correct


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "builtin:digits", "--board", "rpi-9"], "unknown board 'rpi-9'"),
        (["--data", "builtin:digits", "--max-latency-ms", "-1"], "--max-latency-ms: budget"),
        (["--data", "builtin:digits", "--mode", "int4"], "unknown mode 'int4'"),
        (["--data", "builtin:digits", "--prune-ratio", "half"], "'half' is not a number"),
        (["--data", "builtin:digits", "--window", "0"], "--window: window must be at least 1"),
        (["--data", "builtin:digits", "--balance", "more"], "unknown balance 'more'"),
        (["--data", "no/such/folder"], "no/such/folder"),
        ([], "--config edgecnn.toml or at least --data"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    result = CliRunner().invoke(cli, ["pipeline", "--out", str(tmp_path / "p"), *args])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("edgecnn: error: ") and message in last


def test_python_api_accepts_a_toml_path(tmp_path):
    path = tmp_path / "edgecnn.toml"
    path.write_text('data = "builtin:digits"\nboards = ["no-such-board"]\n')
    with pytest.raises(BadInputError, match="line 2: unknown board 'no-such-board'"):
        pipeline.run(path, out=tmp_path / "p")


@pytest.mark.slow
def test_demo_runs_the_pipeline_then_the_replay(monkeypatch, tmp_path):
    from dataclasses import replace

    from edgecnn.pipeline import demo

    digits = demo.PRESETS[demo.DemoData.DIGITS]
    config = MINI | {"prune_ratios": [0.0], "modes": ["int8"]}
    monkeypatch.setattr(demo, "PRESETS", {demo.DemoData.DIGITS: replace(digits, config=config)})
    result = demo.run_demo(out=tmp_path / "demo", samples=25, rate_hz=0.0, sink=None, log=quiet)
    assert result.pipeline.chosen == "model-int8"
    assert result.replay.samples == 25 and result.replay.same_predictions
    assert (tmp_path / "demo" / "report.html").is_file()


@pytest.fixture()
def copied(mini, tmp_path):
    """A copy of the miniature pipeline folder somewhere else (its steps must carry over)."""
    import shutil

    _, folder = mini
    copy = tmp_path / "moved"
    shutil.copytree(folder, copy)
    return copy


@pytest.mark.slow
def test_a_moved_folder_reuses_its_steps_and_points_at_its_own_files(copied):
    again = pipeline.run(MINI, out=copied, log=quiet)
    assert again.ran == ()
    assert all(v.path.startswith(str(copied)) for v in again.variants)
    assert again.run_dir.startswith(str(copied))


@pytest.mark.slow
def test_a_changed_output_file_is_made_again(copied):
    again = pipeline.run(MINI, out=copied, log=quiet)
    int8 = next(v for v in again.variants if v.name == "model-int8")
    with open(int8.path, "ab") as handle:
        handle.write(b"\0")  # e.g. overwritten by a manual edgecnn quantize
    redone = pipeline.run(MINI, out=copied, log=quiet)
    assert "quantize model-int8" in redone.ran and "train" in redone.reused


@pytest.mark.slow
def test_a_failing_prune_or_conversion_is_skipped_not_fatal(copied, monkeypatch):
    import edgecnn.optimize.prune
    import edgecnn.optimize.quantize
    from edgecnn.core.errors import ModelError

    def no_prune(*args, **kwargs):
        raise ModelError("layer 'x' cannot be pruned")

    real_quantize = edgecnn.optimize.quantize.quantize

    def no_fp16(source, *, modes, **kwargs):
        if "fp16" in modes:
            raise ModelError("no fp16 here")
        return real_quantize(source, modes=modes, **kwargs)

    monkeypatch.setattr(edgecnn.optimize.prune, "prune", no_prune)
    monkeypatch.setattr(edgecnn.optimize.quantize, "quantize", no_fp16)
    config = MINI | {"prune_ratios": [0.0, 0.3], "modes": ["fp16", "dynamic"]}
    result = pipeline.run(config, out=copied, log=quiet)
    assert [v.name for v in result.variants] == ["model-dynamic"]
    assert any(s.startswith("prune 0.3: layer 'x'") for s in result.skipped)
    assert "model-fp16: no fp16 here" in result.skipped
    assert "Skipped:" in (copied / "report.md").read_text()
