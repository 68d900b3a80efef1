"""The exceptions of ntx-graph: each carries one line meant for a person."""

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


class DataError(NtxError):
    """An RDF file cannot be read or parsed."""


class QueryTimeout(NtxError):
    """A query ran longer than its time limit."""


class ValidationFailed(NtxError):
    """Data given with --data does not conform to the SHACL shapes."""
