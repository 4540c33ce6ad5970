"""The retention app's errors: broken rules a person reads (core.errors), raised by its services."""

from __future__ import annotations

from core.errors import ApplicationError, Conflict


class SweepBusy(Conflict):
    """Another sweep holds the lock."""


class LockLost(ApplicationError):
    """The lease expired and another sweep took it over; this one stops."""


__all__ = ["LockLost", "SweepBusy"]
