"""Errors services raise; listeners turn them into messages for the person."""
from __future__ import annotations


class ServiceError(Exception):
    """Something the person can fix; the message is shown to them as is. `cli`: the same told at the
    terminal, where a hint names a `launchgate` command rather than a Slack one."""

    def __init__(self, message: str = "", *, cli: str | None = None):
        super().__init__(message)
        self.cli = cli

    def for_cli(self) -> str:
        return self.cli or str(self)


class NotFound(ServiceError):
    pass


class Forbidden(ServiceError):
    """Not allowed. The unit of work still commits the audit event of the attempt."""

    keeps_record = True


class Conflict(ServiceError):
    """The thing changed under the person (e.g. already decided)."""


class FieldErrors(ServiceError):
    """Per-field problems, shown next to the fields of a modal."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class RefusedFields(FieldErrors):
    """A form refused by policy (shown next to the field); the refusal's audit event is kept."""

    keeps_record = True
