"""Broken rules of the request workflow, with messages a person can read."""

from __future__ import annotations

from core.errors import ApplicationError, Conflict


class LinkInvalid(ApplicationError):
    """The link is unknown (mistyped, cut off, or never issued)."""


class LinkExpired(LinkInvalid):
    pass


class LinkUsed(LinkInvalid):
    pass


class DeadlineRuleBroken(Conflict):
    """Art. 12(3): an extension outside what the law allows."""


class WrongState(Conflict):
    pass
