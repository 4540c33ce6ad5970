"""The consent state machine, with authority: who may move which state (the one place that decides).

Every act on the consent ledger carries its *authority*, who acted:

==================  ===========================================================================
authority           who
==================  ===========================================================================
person_confirmed    the person, proven: the portal (session opened by an emailed link), a
                    signed unsubscribe link, the confirmation link of a web sign-up
person_unconfirmed  anyone who typed the address into a public form (the person or a stranger)
staff               a staff member recording what the person said (call, letter, meeting)
import              a batch import (a fair's list, a mail tool's export)
integration         another system of ours through the API (CRM, ERP, website, mail tool)
system              a scheduled job of this application
==================  ===========================================================================

The transitions, per purpose (``rule``); the README's consent section shows the same table:

- *grant*: the person's confirmed act moves any state to granted (Art. 7(1): a fresh,
  demonstrable consent; Art. 21(3) and Art. 7(3): only the person lifts their own opt-out,
  and only for the purpose the act names). Staff, an import or an integration may record a
  consent only where no opt-out stands: not over a withdrawal or objection of the purpose,
  not for a marketing purpose while the objection to direct marketing stands, and (checked
  by the service) not for an address on the suppression list. Nobody but the person may
  consent to direct marketing as such. An unconfirmed act changes nothing: a web sign-up
  waits beside the state (``PendingSignup``) until the person confirms it.
- *withdraw* (Art. 7(3)) and *object* (Art. 21): every authority but an unconfirmed one may
  record them, since stopping is always the safe side; repeating one changes nothing. An
  objection to direct marketing (Art. 21(2)-(3)) also turns every marketing purpose that was
  granted into objected, so a consent given before the objection never comes back on its own.
- *grounds* (Art. 21(1)): only staff, only for a legitimate-interest purpose that is not
  marketing, only after an objection: the company records compelling legitimate grounds that
  override the person's interests (and tells the person).

``effective_state`` and ``basis_for`` then say what the state means for one purpose now; the
single check, the batch check, the portal, the receipt and the contact page all call them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext_noop

PERSON_CONFIRMED = "person_confirmed"
PERSON_UNCONFIRMED = "person_unconfirmed"
STAFF = "staff"
IMPORT = "import"
INTEGRATION = "integration"
SYSTEM = "system"
AUTHORITIES = (PERSON_CONFIRMED, PERSON_UNCONFIRMED, STAFF, IMPORT, INTEGRATION, SYSTEM)
# Someone recording a consent for the person: never over an opt-out.
ON_THE_PERSONS_BEHALF = frozenset({STAFF, IMPORT, INTEGRATION, SYSTEM})

# Actions (ConsentEvent.Action values).
GRANTED = "granted"
WITHDRAWN = "withdrawn"
OBJECTED = "objected"
GROUNDS = "grounds"
# Legacy actions of the double opt-in kept in the ledger before sign-ups were kept apart.
CONFIRMED = "confirmed"
EXPIRED = "expired"

# States (ConsentState.State values).
S_GRANTED = "granted"
S_WITHDRAWN = "withdrawn"
S_OBJECTED = "objected"
S_OVERRIDDEN = "overridden"
S_EXPIRED = "expired"
OPT_OUTS = frozenset({S_WITHDRAWN, S_OBJECTED})

# Channels (consent.models.Channel values) and the authority a legacy event had.
_CHANNEL_AUTHORITY = {
    "web_form": PERSON_UNCONFIRMED,
    "email_link": PERSON_CONFIRMED,
    "portal": PERSON_CONFIRMED,
    "staff": STAFF,
    "api": INTEGRATION,
    "import": IMPORT,
}


def authority_of(*, authority: str, channel: str) -> str:
    """The event's authority; events written before it was recorded take it from their channel."""
    return authority or _CHANNEL_AUTHORITY.get(channel, SYSTEM)


@dataclass(frozen=True)
class PurposeFacts:
    """What the machine needs to know about a purpose."""

    id: int
    is_marketing: bool
    is_direct_marketing: bool
    legal_basis: str


@dataclass(frozen=True)
class Ruling:
    """The machine's answer: refused (with a reason a person can read), or the states it moves."""

    allowed: bool
    changes: dict[int, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def changes_anything(self) -> bool:
        return bool(self.changes)


def _refuse(reason: str) -> Ruling:
    return Ruling(False, {}, reason)


def rule(
    *,
    states: Mapping[int, str],
    marketing_ids: Iterable[int],
    direct_marketing_id: int | None,
    purpose: PurposeFacts,
    action: str,
    authority: str,
) -> Ruling:
    """May ``authority`` do ``action`` on ``purpose``, and which states move?

    ``states``: the contact's current state per purpose id; ``marketing_ids``: the ids of
    marketing purposes among them. Reasons are plain English; services translate them.
    """
    current = states.get(purpose.id)
    if authority not in AUTHORITIES:
        raise ValueError(f"unknown authority {authority!r}")
    if authority == PERSON_UNCONFIRMED:
        # Anyone can type an address: such an act is kept apart until the person confirms it.
        return _refuse(
            gettext_noop("An unconfirmed act does not change a consent; the person must confirm it first.")
        )
    if action == GRANTED:
        if authority == PERSON_CONFIRMED:
            return Ruling(True, {} if current == S_GRANTED else {purpose.id: S_GRANTED})
        if purpose.is_direct_marketing:
            return _refuse(gettext_noop("Only the person can consent to direct marketing as such."))
        if current in OPT_OUTS:
            return _refuse(
                gettext_noop("The person opted out of this; only the person can consent to it again.")
            )
        dm_objected = direct_marketing_id is not None and states.get(direct_marketing_id) == S_OBJECTED
        if purpose.is_marketing and dm_objected:
            return _refuse(
                gettext_noop("The person objected to direct marketing; only the person can consent again.")
            )
        return Ruling(True, {} if current == S_GRANTED else {purpose.id: S_GRANTED})
    if action == WITHDRAWN:
        if current in OPT_OUTS:
            return Ruling(True)  # already stopped: nothing to write
        return Ruling(True, {purpose.id: S_WITHDRAWN})
    if action == OBJECTED:
        if current == S_OBJECTED:
            return Ruling(True)
        changes = {purpose.id: S_OBJECTED}
        if purpose.is_direct_marketing:
            # Art. 21(3): the objection stops every marketing purpose; a consent given before it
            # stays stopped until the person gives a fresh one for that purpose.
            for other in marketing_ids:
                if other != purpose.id and states.get(other) == S_GRANTED:
                    changes[other] = S_OBJECTED
        return Ruling(True, changes)
    if action == GROUNDS:
        if authority != STAFF:
            return _refuse(gettext_noop("Only staff can record compelling legitimate grounds."))
        if purpose.is_marketing or purpose.legal_basis != "legitimate_interest":
            # Art. 21(3): an objection to direct marketing has no exception.
            return _refuse(
                gettext_noop(
                    "Compelling grounds can override an objection only to a legitimate-interest purpose."
                )
            )
        if current != S_OBJECTED:
            return _refuse(gettext_noop("There is no objection to this purpose to override."))
        return Ruling(True, {purpose.id: S_OVERRIDDEN})
    raise ValueError(f"unknown action {action!r}")


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger event as the replay reads it."""

    purpose: PurposeFacts
    action: str
    authority: str
    channel: str = ""


def fold(entries: Iterable[LedgerEntry], *, direct_marketing_id: int | None) -> dict[int, str]:
    """The state per purpose after these events, oldest first (the replay of the projection).

    The legacy double opt-in (a web-form grant, then ``confirmed`` or ``expired``) is read
    as it was meant: the grant waited, the confirmation was the person's own act.
    """
    states: dict[int, str] = {}
    marketing: set[int] = set()
    pending: set[int] = set()
    for entry in entries:
        purpose = entry.purpose
        if purpose.is_marketing:
            marketing.add(purpose.id)
        authority = authority_of(authority=entry.authority, channel=entry.channel)
        action = entry.action
        if action == GRANTED and authority == PERSON_UNCONFIRMED:
            pending.add(purpose.id)
            continue
        if action == CONFIRMED:
            if purpose.id not in pending:
                continue  # a late click after a withdrawal does not bring a consent back
            pending.discard(purpose.id)
            action, authority = GRANTED, PERSON_CONFIRMED
        elif action == EXPIRED:
            pending.discard(purpose.id)
            continue
        if action in (WITHDRAWN, OBJECTED):
            pending.discard(purpose.id)
        ruling = rule(
            states=states,
            marketing_ids=marketing,
            direct_marketing_id=direct_marketing_id,
            purpose=purpose,
            action=action,
            authority=authority,
        )
        states.update(ruling.changes)
    return states


# --- What a state means now ---------------------------------------------------------


def effective_state(
    *, state: str | None, is_marketing: bool, direct_marketing_state: str | None
) -> str | None:
    """The state a person sees and a receipt states: a marketing purpose not granted after an
    objection to direct marketing is objected, whatever its own row says (Art. 21(3))."""
    if is_marketing and state != S_GRANTED and direct_marketing_state == S_OBJECTED:
        return S_OBJECTED
    return state


class Basis:
    """What cleared a contact for a purpose (recorded with each marketing send)."""

    CONSENT = "consent"
    CUSTOMER_RELATIONSHIP = "customer_relationship"  # markedsføringsloven § 15(2)
    FUNCTIONAL_ADDRESS = "functional_address"  # outside § 15: not a named person's address
    CONTRACT = "contract"
    LEGITIMATE_INTEREST = "legitimate_interest"
    LEGAL_OBLIGATION = "legal_obligation"


@dataclass(frozen=True)
class CheckFacts:
    """What the decision needs about one contact and one purpose."""

    state: str | None
    direct_marketing_state: str | None
    functional_address: bool
    third_party_without_attestation: bool
    customer_with_sale_opt_out: bool


def basis_for(
    *,
    legal_basis: str,
    is_marketing: bool,
    is_active: bool,
    own_similar_products: bool,
    facts: CheckFacts,
    suppressed: bool,
) -> str | None:
    """Which basis clears this contact for the purpose now, or None. The one decision.

    ``suppressed``: the address is on the suppression list (an opt-out or objection that
    outlives erasure); only asked for when a basis other than consent is left.
    """
    if not is_active:
        # Art. 6(1)(f): a legitimate-interest purpose is off until its assessment is approved.
        return None
    state = facts.state
    if is_marketing:
        if facts.third_party_without_attestation:
            # Policy (Når samler vi inn): data from a third party is used for marketing only
            # if the person agreed that the source may share it.
            return None
        if state == S_GRANTED:
            # The machine turns a consent given before an objection into objected, so a
            # granted state here was given after any objection (Art. 21(3)).
            return Basis.CONSENT
        if state in OPT_OUTS or state == S_EXPIRED or facts.direct_marketing_state == S_OBJECTED:
            return None
        if suppressed:
            # An opt-out outlives erasure for every kind of address (Art. 21(3), 17).
            return None
        if facts.functional_address:
            return Basis.FUNCTIONAL_ADDRESS
        if own_similar_products and facts.customer_with_sale_opt_out:
            return Basis.CUSTOMER_RELATIONSHIP
        # Markedsføringsloven § 15: electronic marketing to a named person's address needs
        # one of the above, whatever the GDPR basis of the purpose.
        return None
    if legal_basis == "consent":
        return Basis.CONSENT if state == S_GRANTED else None
    if legal_basis == "legitimate_interest":
        # Art. 21(1): after an objection the processing stops, unless staff recorded
        # compelling legitimate grounds (state overridden).
        return None if state == S_OBJECTED else Basis.LEGITIMATE_INTEREST
    if legal_basis == "contract":
        return Basis.CONTRACT
    return Basis.LEGAL_OBLIGATION


def needs_suppression_lookup(
    *, is_marketing: bool, is_active: bool, facts: CheckFacts, own_similar_products: bool
) -> bool:
    """Whether the decision depends on the suppression list (it costs a keyed hash per address)."""
    if not (is_active and is_marketing) or facts.third_party_without_attestation:
        return False
    if facts.state == S_GRANTED or facts.state in OPT_OUTS or facts.state == S_EXPIRED:
        return False
    if facts.direct_marketing_state == S_OBJECTED:
        return False
    return facts.functional_address or (own_similar_products and facts.customer_with_sale_opt_out)
