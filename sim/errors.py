"""Errors that reach users as one line: bad input names its file and field path."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input: a scenario, an experiment spec or a command-line argument.

    The command-line front end prints :meth:`one_line` and exits with code 2,
    without a traceback. Python callers catch it like any exception.

    Parameters
    ----------
    message : str
        What was expected, and what was found.
    source : str, optional
        The file (or ``"<dict>"``, ``"--policy"``...) the bad input came from.
    path : str, optional
        Dotted field path inside the source, such as ``incident_types.fire.on_scene.mean``.
    """

    def __init__(self, message: str, source: str | None = None, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.path = path

    def one_line(self) -> str:
        """Return ``source: path: message`` on a single line."""
        parts = [p for p in (self.source, self.path) if p]
        text = ": ".join([*parts, self.message])
        return " ".join(text.split())

    def __str__(self) -> str:
        return self.one_line()

    def at(self, source: str | None = None, path_prefix: str | None = None) -> InputError:
        """Return a copy located in ``source`` with ``path_prefix`` put before the path."""
        path = self.path
        if path_prefix:
            path = f"{path_prefix}.{path}" if path else path_prefix
        return InputError(self.message, source or self.source, path)
