"""The rules of the ledger, in one place: how events fold into a state.

Both the projection (``consent.services``, one event at a time) and the replay
(``consent.selectors.consent_state_replayed``, the whole log) use
``next_state``, so they cannot disagree about what an event means; the
property test checks that the projection kept in the database equals the
replay for any sequence of events.
"""

from __future__ import annotations

from .models import Channel, ConsentEvent, ConsentState

Action = ConsentEvent.Action
State = ConsentState.State

# Double opt-in: a consent given on a web form counts only once confirmed
# through the emailed link (the address might not be the signer's own).
DOUBLE_OPT_IN_CHANNELS = frozenset({Channel.WEB_FORM})


def next_state(current: str | None, *, action: str, channel: str) -> str | None:
    """The state after ``action``; None means "no state yet"."""
    if action == Action.GRANTED:
        return State.PENDING if channel in DOUBLE_OPT_IN_CHANNELS else State.GRANTED
    if action == Action.CONFIRMED:
        # A confirmation counts only for a consent waiting for it; a late click
        # after a withdrawal does not bring the consent back.
        return State.GRANTED if current == State.PENDING else current
    if action == Action.WITHDRAWN:
        return State.WITHDRAWN
    if action == Action.EXPIRED:
        return State.EXPIRED
    if action == Action.OBJECTED:
        return State.OBJECTED
    raise ValueError(f"unknown action {action!r}")


def replay(events: list[tuple[str, str]]) -> str | None:
    """Fold (action, channel) pairs, oldest first."""
    state: str | None = None
    for action, channel in events:
        state = next_state(state, action=action, channel=channel)
    return state
