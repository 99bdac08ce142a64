"""Errors meant for people: one line saying what was wrong and what would be right."""


class EdgecnnError(Exception):
    """Base class of every error edgecnn raises on purpose.

    Attributes:
        exit_code: the process exit code the CLI uses for it (2 = bad input, 1 = run failed).
    """

    exit_code = 2


class BadInputError(EdgecnnError):
    """An argument, option or file given by the user is not acceptable."""


class DataError(BadInputError):
    """A data source is missing, empty, malformed or unusable for training."""


class ModelError(BadInputError):
    """A model name, file or input shape cannot be used."""


class MissingDependencyError(EdgecnnError):
    """An optional package is not installed; the message names the extra to install."""


class RunFailedError(EdgecnnError):
    """The input was fine but the run itself failed."""

    exit_code = 1
