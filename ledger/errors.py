"""Typed errors. Each carries one sentence a person can act on; the CLI prints it and exits non-zero."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    exit_code = 1
    retryable = False


class BadInput(LedgerError):
    """The user gave something the ledger cannot accept (a malformed value, a span outside the text...)."""

    exit_code = 2


class NotFound(BadInput):
    """An id, name or prefix that matches nothing."""


class AlreadyExists(BadInput):
    """Something with the same identity was recorded before."""


class PermissionDenied(LedgerError):
    """The acting person's recorded role does not allow the command."""

    exit_code = 3


class RuleViolation(BadInput):
    """A framework's hard rule (or another domain rule) forbids the change."""


class Conflict(LedgerError):
    """Someone else appended to the same aggregate first; the command can be retried."""

    exit_code = 75
    retryable = True


class Busy(LedgerError):
    """The database stayed locked beyond the lock timeout; the command can be retried."""

    exit_code = 75
    retryable = True


class NotALedger(LedgerError):
    """No ledger was found from here (no ``.evidence/`` folder and no ``EVIDENCE_LEDGER_URL``)."""

    exit_code = 4


class StorageError(LedgerError):
    """The database could not be reached or is configured unsafely."""

    exit_code = 5


class IntegrityViolation(LedgerError):
    """The stored log does not verify: something was altered, removed or inserted."""

    exit_code = 6

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


class ImportRejected(BadInput):
    """An imported file was refused (unreadable, unsupported, hostile). ``code`` names the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
