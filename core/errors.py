"""The project's error hierarchy.

Input problems raise Django's ``ValidationError``; broken business rules raise
an ``ApplicationError`` subclass whose message a person can read. Doors (views,
admin, commands, tasks) turn both into a message, never a stack trace. Messages
never carry personal data: they name the rule, not the person.
"""

from __future__ import annotations


class ApplicationError(Exception):
    def __init__(self, message: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFound(ApplicationError):
    pass


class Conflict(ApplicationError):
    """The action clashes with the current state (already done, already claimed)."""
