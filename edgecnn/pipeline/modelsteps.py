"""The steps that make each model family's Keras models: training (the reference its variants
are compared to) and structured pruning at each ratio, each reused while its key is
unchanged."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from edgecnn.core.errors import ModelError
from edgecnn.pipeline.config import PipelineConfig
from edgecnn.pipeline.evaluation import reference
from edgecnn.pipeline.steps import StepCache, key_of, source_digest, toolchain
from edgecnn.training.rundir import RunDir


@dataclass(frozen=True)
class Family:
    """One model family of the pipeline and how its steps and variants are named.

    ``prefix`` is empty when the pipeline has one family (names as they always were) and
    ``<family>-`` when it has several, so variant names stay unique across families.
    """

    name: str
    prefix: str = ""

    def step(self, what: str) -> str:
        """A step's name: ``train``, or ``train cnn1d`` among several families."""
        return f"{what} {self.name}" if self.prefix else what


def families(config: PipelineConfig) -> list[Family]:
    """The families of ``config`` in the order given."""
    several = len(config.models) > 1
    return [Family(name, f"{name}-" if several else "") for name in config.models]


@dataclass(frozen=True)
class Trained:
    """A family's training run and the train step's record (its Keras reference)."""

    family: Family
    run: RunDir
    record: dict


def train_step(config: PipelineConfig, family: Family, folder: Path, steps: StepCache, log):
    """The family's training run folder (named after its key) and the reference it measured."""
    train_config = _train_config(config, family.name)
    options = train_config.to_dict() | {"data": None}  # the data's content is keyed instead
    key = key_of("train", toolchain(), source_digest(config.data), options)
    run = RunDir(folder / f"train-{family.name}-{key[:10]}")

    def compute() -> dict:
        from edgecnn.training.train import train

        resume = run.state.is_file() and not run.is_complete()
        if not resume and not run.is_complete() and run.root.exists():
            shutil.rmtree(run.root)  # an unfinished run without a checkpoint: start over
        if not run.is_complete():
            train(train_config, out=run.root, resume=resume, log=log)
        return reference(run) | {"key": key}

    record = steps.run(family.step("train"), key, compute, outputs=(run.model, run.report))
    return Trained(family, run, record)


def _train_config(config: PipelineConfig, model: str):
    from edgecnn.training.trainconfig import TrainConfig

    training = (
        "epochs", "seed", "batch_size", "width", "patience", "augment", "balance",
        "label_smoothing",
    )  # fmt: skip
    reading = (
        "input_shape", "window", "hop", "label_column", "clip_ms", "audio_classes",
        "audio_features",
    )  # fmt: skip
    return TrainConfig.from_options(
        data=config.data,
        model=model,
        **{key: getattr(config, key) for key in training + reading},
    )


def model_files(config, trained: Trained, steps: StepCache, log):
    """(ratio, .keras path) for the unpruned model and each pruning ratio that worked, and a
    line for each ratio that did not."""
    models, skipped = [], []
    for ratio in config.prune_ratios:
        if ratio == 0:
            models.append((0.0, trained.run.model))
            continue
        name = trained.family.step("prune") + f" {ratio:g}"
        try:
            pruned = _prune_step(config, trained, ratio, name, steps, log)
        except ModelError as exc:  # a layer structured pruning cannot handle
            skipped.append(f"{name}: {exc}")
            log(f"pipeline: {name} skipped: {exc}")
            continue
        models.append((ratio, pruned))
    return models, skipped


def _prune_step(config, trained: Trained, ratio: float, name: str, steps: StepCache, log):
    """The pruned model's path (structured pruning at ``ratio``, fine-tuned)."""
    key = key_of("prune", toolchain(), trained.record["key"], ratio, config.finetune_epochs)
    root = trained.run.root
    target = root / f"pruned-{ratio:g}.keras"

    def compute() -> dict:
        from edgecnn.optimize.prune import prune

        result = prune(
            root, ratio=ratio, finetune_epochs=config.finetune_epochs, out=target.name, log=log
        )
        return {"params": result.params_after, "macs": result.macs_after}

    steps.run(name, key, compute, outputs=(target,))
    return target
