"""Finding the model and the training run behind a ``RUN_DIR|MODEL.keras`` argument."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.training.prepare import PreparedData, load_prepared
from edgecnn.training.rundir import RunDir


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
    """The run's saved record (``run.json``) and its split, preprocessed data."""
    record = fileio.read_json(run.config)
    return record, load_prepared(run, record["data"])
