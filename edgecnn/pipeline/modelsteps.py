"""The steps that make the Keras models: training (the reference every variant is compared
to) and structured pruning at each ratio, each reused while its key is unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

from edgecnn.core.errors import ModelError
from edgecnn.pipeline.config import PipelineConfig
from edgecnn.pipeline.evaluation import reference
from edgecnn.pipeline.steps import StepCache, key_of, source_digest, toolchain
from edgecnn.training.rundir import RunDir


def train_step(config: PipelineConfig, folder: Path, steps: StepCache, log):
    """The training run folder (named after its key) and the reference it measured."""
    train_config = _train_config(config)
    options = train_config.to_dict() | {"data": None}  # the data's content is keyed instead
    key = key_of("train", toolchain(), source_digest(config.data), options)
    run = RunDir(folder / f"train-{config.model}-{key[:10]}")

    def compute() -> dict:
        from edgecnn.training.train import train

        resume = run.state.is_file() and not run.is_complete()
        if not resume and not run.is_complete() and run.root.exists():
            shutil.rmtree(run.root)  # an unfinished run without a checkpoint: start over
        if not run.is_complete():
            train(train_config, out=run.root, resume=resume, log=log)
        return reference(run) | {"key": key}

    return run, steps.run("train", key, compute, outputs=(run.model, run.report))


def _train_config(config: PipelineConfig):
    from edgecnn.training.trainconfig import TrainConfig

    training = ("epochs", "seed", "batch_size", "width", "patience", "augment", "balance")
    reading = ("input_shape", "window", "hop", "label_column")
    return TrainConfig.from_options(
        data=config.data,
        model=config.model,
        **{key: getattr(config, key) for key in training + reading},
    )


def model_files(config, run: RunDir, train_key: str, steps: StepCache, log):
    """(ratio, .keras path) for the unpruned model and each pruning ratio that worked, and a
    line for each ratio that did not."""
    models, skipped = [], []
    for ratio in config.prune_ratios:
        if ratio == 0:
            models.append((0.0, run.model))
            continue
        try:
            pruned = _prune_step(config, run, train_key, ratio, steps, log)
        except ModelError as exc:  # a layer structured pruning cannot handle
            skipped.append(f"prune {ratio:g}: {exc}")
            log(f"pipeline: prune {ratio:g} skipped: {exc}")
            continue
        models.append((ratio, pruned))
    return models, skipped


def _prune_step(config, run: RunDir, train_key: str, ratio: float, steps: StepCache, log):
    """The pruned model's path (structured pruning at ``ratio``, fine-tuned)."""
    key = key_of("prune", toolchain(), train_key, ratio, config.finetune_epochs)
    target = run.root / f"pruned-{ratio:g}.keras"

    def compute() -> dict:
        from edgecnn.optimize.prune import prune

        result = prune(
            run.root, ratio=ratio, finetune_epochs=config.finetune_epochs, out=target.name, log=log
        )
        return {"params": result.params_after, "macs": result.macs_after}

    steps.run(f"prune {ratio:g}", key, compute, outputs=(target,))
    return target
