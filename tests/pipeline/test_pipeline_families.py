"""The pipeline across several model families: each family trained, quantized and measured,
its steps reused when a family joins, the choice ranking all families' variants within the
budgets, the report naming the winner; unknown or mixed families refused before any work."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from edgecnn import pipeline
from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.pipeline.config import load_config, parse_config
from edgecnn.pipeline.steps import STATE_FILE
from edgecnn.training.data.synthetic import make_easy_images

NANO = "arduino-nano-33-ble-sense"
TWO = ["lenet5", "vgg_tiny"]


def quiet(_line: str) -> None:
    pass


def tiny(data) -> dict:
    """The smallest settings that still train, convert and estimate every family."""
    return {
        "data": str(data), "epochs": 1, "width": 0.25, "modes": ["int8"],
        "calibration_samples": 10, "bench_runs": 2, "boards": [NANO],
    }  # fmt: skip


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    """lenet5 alone, then lenet5 and vgg_tiny into the same folder."""
    root = tmp_path_factory.mktemp("families")
    config = tiny(make_easy_images(root / "easy.npz"))
    folder = root / "pipeline"
    single = pipeline.run(config | {"model": "lenet5"}, out=folder, log=quiet)
    state = json.loads((folder / STATE_FILE).read_text())["steps"]
    both = pipeline.run(config | {"models": TWO}, out=folder, log=quiet)
    return single, state, both, config, folder


@pytest.mark.slow
def test_each_family_is_trained_and_quantized_with_names_kept_apart(families):
    _, _, both, _, folder = families
    assert [v.name for v in both.variants] == ["lenet5-model-int8", "vgg_tiny-model-int8"]
    assert [v.family for v in both.variants] == TWO
    assert [f.name for f in both.families] == TWO
    for v, f in zip(both.variants, both.families, strict=True):
        assert f.run_dir.startswith(str(folder / f"train-{v.family}-"))
        assert v.path.startswith(f.run_dir)
        assert v.on(NANO).fits and f.params > 0 and f.macs > 0
    # The two trained models differ (vgg_tiny is the larger at any width).
    assert both.variants[1].size_bytes > both.variants[0].size_bytes


@pytest.mark.slow
def test_adding_a_family_reuses_the_other_familys_steps(families):
    single, state, both, _, folder = families
    alone = ("train", "quantize model-int8", "benchmark model-int8", "estimate model-int8")
    assert single.ran == alone
    lenet = ("train lenet5", "quantize lenet5-model-int8", "benchmark lenet5-model-int8",
             "estimate lenet5-model-int8")  # fmt: skip
    assert both.reused == lenet and all("vgg_tiny" in step for step in both.ran)
    assert len(list(folder.glob("train-lenet5-*"))) == 1
    assert both.variants[0].path == single.variants[0].path
    now = json.loads((folder / STATE_FILE).read_text())["steps"]
    assert now["train lenet5"] == state["train"] and "train" not in now  # filed under its new name


@pytest.mark.slow
def test_the_choice_ranks_the_variants_of_both_families_together(families):
    _, _, both, _, _ = families
    best = max(both.variants, key=lambda v: (v.val_accuracy, -v.size_bytes))
    assert both.met and both.chosen == best.name and both.family == best.family
    assert f"family {best.family} wins" in both.why and "families lenet5, vgg_tiny" in both.why
    assert both.run_dir == both.family_of(best).run_dir  # the winner's run, for the replay
    assert [f.best for f in both.families] == [v.name for v in both.variants]


@pytest.mark.slow
def test_report_names_the_winning_family_and_each_familys_best(families):
    _, _, both, _, folder = families
    markdown = (folder / "report.md").read_text()
    assert "## Model families" in markdown and f"Family {both.family} won" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    for family, variant in zip(TWO, both.variants, strict=True):
        assert any(family in row and variant.name in row for row in rows)
    assert "reference of the vgg_tiny variants" in markdown
    assert "training run of lenet5" in markdown and "training run of vgg_tiny" in markdown
    saved = json.loads((folder / "pipeline.json").read_text())
    assert saved["family"] == both.family and [f["name"] for f in saved["families"]] == TWO
    assert saved["config"]["models"] == TWO


@pytest.mark.slow
def test_cli_model_list_and_a_size_budget_that_only_the_smaller_family_meets(families):
    _, _, both, config, folder = families
    small, large = both.variants
    budget = (small.size_bytes + large.size_bytes) / 2 / 1024
    args = ["pipeline", "--data", config["data"], "--model", "lenet5,vgg_tiny", "--width",
            "0.25", "--epochs", "1", "--mode", "int8", "--calibration-samples", "10",
            "--bench-runs", "2", "--board", NANO, "--out", str(folder)]  # fmt: skip
    runner = CliRunner()
    sized = runner.invoke(cli, [*args, "--max-size-kb", f"{budget:.3f}", "--json"])
    assert sized.exit_code == 0, sized.output
    found = json.loads(sized.stdout)
    assert found["ran"] == [] and found["family"] == "lenet5"
    assert found["chosen"] == "lenet5-model-int8"
    assert any(m.startswith("max_size_kb") for m in found["variants"][1]["misses"])
    plain = runner.invoke(cli, args)  # back to no budget: the module's result again
    assert plain.exit_code == 0, plain.output
    assert "family       lenet5: Keras val acc" in plain.output
    assert f"family       {both.family}: " in plain.output and "<- won" in plain.output


def test_selection_holds_each_family_to_its_own_model_and_ranks_them_together():
    from edgecnn.pipeline.orchestrate import _select
    from edgecnn.pipeline.result import VariantReport

    def variant(name, family, val_accuracy, size_kb):
        return VariantReport(
            name=name, prune_ratio=0.0, mode="int8", path=f"/x/{name}.tflite",
            size_bytes=size_kb * 1024, accuracy=val_accuracy, correct=0, test_samples=100,
            delta=0.0, agreement=1.0, val_accuracy=val_accuracy, val_samples=80,
            host_p50_ms=0.1, boards=(), family=family,
        )  # fmt: skip

    variants = [variant("a-model-int8", "a", 0.80, 10), variant("b-model-int8", "b", 0.90, 40),
                variant("b-pruned-0.5-int8", "b", 0.86, 20)]  # fmt: skip
    references = {"a": 0.80, "b": 0.90}
    drop = parse_config({"data": "x.csv", "budgets": {"max_accuracy_drop": 0.02}})
    ranked, selection = _select(drop, variants, references)
    assert selection.chosen.name == "b-model-int8"
    # 0.86 is 0.04 below b's own model; a's 0.80 is no drop from a's, though below b's.
    assert [v.misses != () for v in ranked] == [False, False, True]
    sized = parse_config({"data": "x.csv", "budgets": {"max_accuracy_drop": 0.02,
                                                       "max_size_kb": 30}})  # fmt: skip
    assert _select(sized, variants, references)[1].chosen.name == "a-model-int8"


def test_the_chart_gives_each_family_a_colour_and_a_legend_entry(monkeypatch, tmp_path):
    from edgecnn.pipeline import charts
    from edgecnn.pipeline.config import Budgets
    from edgecnn.pipeline.result import VariantReport

    saved = []
    monkeypatch.setattr(charts, "save_figure", lambda fig, path: saved.append(fig))
    variants = [
        VariantReport(name=f"{f}-model-int8", prune_ratio=0.0, mode="int8", path="/x",
                      size_bytes=1000, accuracy=acc, correct=0, test_samples=10, delta=0.0,
                      agreement=1.0, val_accuracy=acc, val_samples=10, host_p50_ms=ms,
                      boards=(), family=f)  # fmt: skip
        for f, acc, ms in (("a", 0.8, 0.1), ("b", 0.9, 0.3))
    ]
    charts.plot_tradeoff(
        variants, [], Budgets(max_accuracy_drop=0.05), references={"a": 0.8, "b": 0.9},
        chosen="b-model-int8", path=tmp_path / "x.png",
    )  # fmt: skip
    (ax,) = saved[0].axes
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"family a", "family b", "chosen", "min accuracy a 0.7500"} <= set(legend)
    assert "min accuracy b 0.8500" in legend
    colours = {tuple(c.get_facecolor()[0]) for c in ax.collections if len(c.get_offsets())}
    assert len(colours) == 2  # a's point in its colour, b's (the chosen) as the red star


@pytest.mark.parametrize(
    "models, message",
    [
        ("lenet5,no_such_net", "--model: unknown model 'no_such_net'; known models: lenet5,"),
        ("lenet5,cnn1d", "--model: lenet5 takes images (HxWxC) but cnn1d takes sensor windows"),
        ("", "--model: name at least one model family"),
    ],
)
def test_unknown_or_mixed_families_are_refused_before_any_work(models, message, tmp_path):
    out = tmp_path / "p"
    args = ["pipeline", "--data", "builtin:digits", "--model", models, "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("edgecnn: error: ") and message in last
    assert "vgg_tiny" in last or not models.startswith("lenet5,n")  # the known families
    assert not out.exists()


def test_model_and_models_keys_in_toml(tmp_path):
    path = tmp_path / "edgecnn.toml"
    path.write_text('data = "builtin:digits"\nmodels = ["LeNet5", "vgg-tiny", "lenet5"]\n')
    assert load_config(path).models == ("lenet5", "vgg_tiny")  # registry names, each once
    assert load_config(path, overrides={"models": ["dscnn"]}).models == ("dscnn",)
    path.write_text('data = "builtin:digits"\nmodel = "vgg_tiny"\n')
    config = load_config(path)
    assert config.models == ("vgg_tiny",) and config.model == "vgg_tiny"
    assert parse_config(config.to_dict()) == config
    path.write_text('data = "builtin:digits"\nmodel = "lenet5"\nmodels = ["vgg_tiny"]\n')
    with pytest.raises(BadInputError, match=r"line 3: give model or models, not both"):
        load_config(path)
    path.write_text('data = "builtin:digits"\nmodels = ["lenet5", "cnn1d"]\n')
    with pytest.raises(BadInputError, match=r"line 2: lenet5 takes images .* list families"):
        load_config(path)


def test_a_window_below_a_familys_minimum_is_refused_before_any_work(tmp_path):
    from edgecnn.training.models.registry import get_spec

    least = get_spec("inception1d").min_input[0]
    out = tmp_path / "p"
    args = [
        "pipeline", "--data", str(tmp_path / "imu.csv"), "--model", "inception1d,cnn1d",
        "--window", str(least - 1), "--out", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert f"model inception1d needs windows of at least {least} samples" in last
    assert f"window = {least - 1}" in last and not out.exists()


def test_label_smoothing_reaches_training_and_is_range_checked(tmp_path):
    from edgecnn.pipeline.modelsteps import _train_config

    path = tmp_path / "edgecnn.toml"
    path.write_text('data = "builtin:digits"\nlabel_smoothing = 0.1\n')
    config = load_config(path)
    assert _train_config(config, "lenet5").label_smoothing == 0.1
    assert config.epochs is None and _train_config(config, "lenet5").epochs is None  # auto
    with pytest.raises(BadInputError, match="label_smoothing must be below 1, got 1.5"):
        load_config(path, overrides={"label_smoothing": 1.5})
