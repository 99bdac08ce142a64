"""Finding the model and the training run behind a ``RUN_DIR|MODEL.keras`` argument."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgecnn.core.errors import BadInputError
from edgecnn.training.prepare import PreparedData, load_prepared
from edgecnn.training.rundir import DAMAGED, RunDir, read_object
from edgecnn.training.trainconfig import TrainConfig


@dataclass(frozen=True)
class ModelSource:
    """A Keras model file and, when it lives in one, its training run folder."""

    model_path: Path
    run: RunDir | None

    def require_run(self, purpose: str) -> RunDir:
        """The run folder, or a clear error saying why it is needed."""
        if self.run is None:
            raise BadInputError(
                f"{self.model_path} is not inside a training run folder; {purpose} needs the "
                "run's data splits (pass the run folder written by edgecnn train)"
            )
        return self.run


def resolve_source(path: str | Path) -> ModelSource:
    """Accepts a finished run folder or a ``.keras`` file (inside a run folder or not).

    Raises:
        BadInputError: the path is missing, an unfinished run, or not a .keras file.
    """
    given = Path(path)
    if given.is_dir():
        run = RunDir(given)
        if not run.is_complete():
            raise BadInputError(
                f"{given} is not a finished training run (no model.keras and train.json); "
                "train first or pass a .keras file"
            )
        return ModelSource(run.model, run)
    if not given.exists():
        raise BadInputError(f"{given} does not exist; give a run folder or a .keras file")
    if given.suffix != ".keras":
        raise BadInputError(f"{given} is not a .keras model file or a run folder")
    parent = RunDir(given.parent)
    return ModelSource(given, parent if parent.config.exists() and parent.data.exists() else None)


def load_run(run: RunDir) -> tuple[dict, PreparedData]:
    """The run's saved record (``run.json``) and its split, preprocessed data.

    Raises:
        BadInputError: a file of the run folder is damaged (each is checked as it is read).
    """
    record = read_record(run)
    return record, load_prepared(run, record["data"])


def read_record(run: RunDir) -> dict:
    """``run.json``: a JSON object with the run's ``config`` and ``data`` description.

    Raises:
        BadInputError: it is not valid JSON, or lacks either part.
    """
    record = read_object(run.config)
    for key in ("config", "data"):
        if not isinstance(record.get(key), dict):
            raise BadInputError(
                f"{run.config} has no {key!r} object (edgecnn train writes one); {DAMAGED}"
            )
    return record


def saved_config(run: RunDir, record: dict) -> TrainConfig:
    """The training options saved in ``run.json`` (see :func:`read_record`).

    Raises:
        BadInputError: the saved options are not ones edgecnn train writes.
    """
    try:
        return TrainConfig.from_dict(record["config"])
    except (TypeError, ValueError, BadInputError) as exc:
        raise BadInputError(f"{run.config}: bad training options ({exc}); {DAMAGED}") from None


def check_model_fits(model, model_path: Path, run: RunDir, data: PreparedData) -> None:
    """Refuses a model whose input or class count does not match the run's data.

    Raises:
        BadInputError: e.g. a labels.txt with 3 names for a model with 10 outputs.
    """
    wanted = tuple(data.preprocessing.input_shape)
    given = tuple(model.inputs[0].shape[1:])
    if given != wanted:
        raise BadInputError(
            f"{model_path} takes input {given} but the run's preprocessing.json gives "
            f"{wanted}; {DAMAGED}"
        )
    outputs = model.outputs[0].shape[-1]
    if outputs != data.num_classes:
        raise BadInputError(
            f"{run.labels} holds {data.num_classes} class names but {model_path.name} has "
            f"{outputs} outputs; {DAMAGED}"
        )
