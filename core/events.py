"""Domain events: what happened to a person's data, for the apps that must react.

The services that change a person's data send these; the integration API (signed
webhooks, Art. 19) and the accountability registers (the disclosure log) receive
them. Apps never import each other to tell of a change: they send an event here.

Rules for senders and receivers, so that nothing is told of a change that did not
commit and nothing that committed goes untold:

- A service sends the event *inside* its ``transaction.atomic`` block, after its
  writes. A receiver writes its own rows (an outbox of webhook deliveries, a
  disclosure) in that same transaction, so both commit or neither does, and
  starts any outside work (HTTP, email) with ``transaction.on_commit``.
- A receiver never raises for an outside failure; a receiver's bug rolls the
  sender back, which is the safe side for a record of duty.
- Keyword arguments only. Personal data travels in the arguments only as far as
  the receiver needs it to identify the person to a recipient that already knows
  them (Art. 19); receivers must not log it.
"""

from __future__ import annotations

from django.dispatch import Signal

# A person's data was erased (Art. 17), by a request, by staff in the admin, or by
# retention when a contact went whole.
#   emails: list[str]     the addresses the person was known by (normalised), before erasure
#   contact_ids: list[int] the register rows that went (their ids no longer resolve)
#   recipients: list[str] recipient codes that held the person's data (rights.selectors.recipients_for)
#   request_id: int | None the data-subject request, when one asked for it
#   reason: str           "request", "admin" or "retention"
subject_erased = Signal()

# A person's data was corrected (Art. 16).
#   email: str, contact_id: int, fields: list[str] (names, never values),
#   recipients: list[str], request_id: int | None
subject_rectified = Signal()

# The use of a person's data was restricted (Art. 18), or a restriction lifted.
#   email: str, contact_ids: list[int], request_id: int | None, lifted: bool, recipients: list[str]
subject_restricted = Signal()

# The effective consent decision for a contact and purpose changed.
#   email: str, contact_id: int | None, purpose: str (code), allowed: bool,
#   actor_kind: str (who acted: subject, staff, import, integration, system)
consent_changed = Signal()

# An address was put on the suppression list (an opt-out that outlives erasure).
#   email_hash: str (keyed hash, core.crypto), purposes: list[str]
suppression_added = Signal()

# A data-subject request was completed (answered).
#   request_id: int, request_type: str, outcome: str
request_completed = Signal()

# A person's data left for a recipient (Art. 15(1)(c), Art. 30(1)(d)): a webhook
# delivered, an export, a disclosure staff recorded.
#   recipient: str (code), contact_ids: list[int], categories: list[str], purpose: str,
#   channel: str ("webhook", "export", "manual"), reason: str
data_disclosed = Signal()
