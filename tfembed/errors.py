"""Project exceptions: every error names where the bad input is."""


class TfembedError(Exception):
    """Base class of all tfembed errors."""


class DataError(TfembedError):
    """Bad or missing data: names the file, the line/record and what was expected."""

    def __init__(self, message, path=None, line=None):
        self.path = str(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}:{line}"
            where += ": "
        super().__init__(where + message)


class ConfigError(TfembedError):
    """A bad configuration key or value (e.g. from `--set key=value`)."""


class TrainingError(TfembedError):
    """Training cannot go on (e.g. a non-finite loss): names the step and what was last good."""


class CheckpointError(TfembedError):
    """No usable checkpoint, or one that does not fit the model: names the files."""
