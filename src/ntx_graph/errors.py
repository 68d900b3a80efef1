"""The exceptions of ntx-graph: each carries one line meant for a person; and helpers that word such lines."""

from __future__ import annotations


class NtxError(Exception):
    """An error the user can act on; ``str(error)`` is one clear line."""

    #: The process exit code the CLI uses for this error.
    exit_code = 2


class QueryNotFound(NtxError):
    """No saved query has the given name."""


class ParameterError(NtxError):
    """A query parameter is missing, unknown or ill-typed."""


class QuerySyntaxError(NtxError):
    """A SPARQL query does not parse."""


class QueryRefused(QuerySyntaxError):
    """A query is refused by policy: an update, or SERVICE/FROM without
    federation allowed. (A QuerySyntaxError, as updates were before.)"""


class TooManyResults(NtxError):
    """A result has more rows or triples than the caller's cap: ``limit``
    of ``what`` ("rows" or "triples")."""

    limit: int = 0
    what: str = "rows"


class DataError(NtxError):
    """An RDF file cannot be read or parsed."""


class QueryTimeout(NtxError):
    """A query ran longer than its time limit."""


class ValidationFailed(NtxError):
    """Data given with --data does not conform to the SHACL shapes;
    ``report`` holds the SHACL report as text, ``summary`` its one-line count."""

    def __init__(self, message: str, report: str = "", summary: str = "") -> None:
        super().__init__(message)
        self.report = report
        self.summary = summary


def one_line(text: object) -> str:
    """``text`` on one line: every run of whitespace, newlines included, made one space."""
    return " ".join(str(text).split())


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless the count is 1: ``3 files``, ``1 file``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def reason(error: BaseException) -> str:
    """Why ``error`` happened, on one line: an OSError's ``strerror``, else its text or its type's name."""
    return getattr(error, "strerror", None) or one_line(error) or type(error).__name__
