"""Kept for older imports: the rules of the ledger now live in ``consent.machine``.

``next_state`` and ``replay`` read a single purpose's (action, channel) history the
way the machine does, deriving each event's authority from its channel.
"""

from __future__ import annotations

from . import machine
from .models import Channel

# Double opt-in: a consent given on a web form counts only once confirmed.
DOUBLE_OPT_IN_CHANNELS = frozenset({Channel.WEB_FORM})

_ONE = machine.PurposeFacts(id=0, is_marketing=False, is_direct_marketing=False, legal_basis="consent")


def replay(events: list[tuple[str, str]]) -> str | None:
    """Fold (action, channel) pairs of one purpose, oldest first."""
    entries = [machine.LedgerEntry(_ONE, action, "", channel) for action, channel in events]
    return machine.fold(entries, direct_marketing_id=None).get(0)


def next_state(current: str | None, *, action: str, channel: str) -> str | None:
    """The state after one more event of a single purpose (for bulk loaders such as the demo)."""
    states = {0: current} if current else {}
    authority = machine.authority_of(authority="", channel=channel)
    if action in (machine.CONFIRMED, machine.EXPIRED) or authority == machine.PERSON_UNCONFIRMED:
        # Legacy double opt-in events: the demo writes a confirmation right after its grant.
        return machine.S_GRANTED if action == machine.CONFIRMED else current
    ruling = machine.rule(
        states=states,
        marketing_ids=(),
        direct_marketing_id=None,
        purpose=_ONE,
        action=action,
        authority=authority,
    )
    return ruling.changes.get(0, current)
