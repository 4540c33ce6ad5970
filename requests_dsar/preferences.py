"""The consent preferences page: the person's consents per topic, changed through the consent ledger.

Reached only by a browser that followed an emailed link (the session holds the
confirmed address), so nobody can see or change someone else's consents, and what
is done here is the person's own confirmed act. Withdrawing is as easy as giving
(Art. 7(3)): one checkbox, one button.

The page shows the effective state (``consent.machine``): a topic stopped by an
objection to direct marketing is shown unticked and marked, so saving never brings
it back; only the person ticking it again does, as a fresh consent (Art. 21(3)).
A sign-up waiting for its emailed confirmation is shown apart and left alone by
a save, so saving other choices never withdraws it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.audit import Actor
from core.errors import ApplicationError
from core.http import client_ip
from core.validators import normalise_email


@dataclass(frozen=True)
class Topic:
    code: str
    name: str
    granted: bool
    pending: bool
    blocked: bool


def _topics(contacts: list, email: str) -> list[Topic]:
    from consent.models import ConsentState, LegalBasis
    from consent.selectors import consent_state_for_contact, pending_signups_for_email

    waiting = {t["purpose"] for s in pending_signups_for_email(email=email) for t in s.topics}
    topics: dict[str, Topic] = {}
    for contact in contacts:
        for row in consent_state_for_contact(contact=contact):
            if row.legal_basis != LegalBasis.CONSENT:
                continue  # direct marketing as such and legitimate interests: object, not tick
            seen = topics.get(row.purpose_code)
            granted = row.state == ConsentState.State.GRANTED
            blocked = row.state == ConsentState.State.OBJECTED
            topics[row.purpose_code] = Topic(
                row.purpose_code,
                str(row.purpose_name),
                granted and (seen is None or seen.granted),
                row.purpose_code in waiting and not granted,
                blocked or bool(seen and seen.blocked),
            )
    return sorted(topics.values(), key=lambda t: t.name)


def preferences_page(request: HttpRequest, *, email: str) -> HttpResponse:
    from consent.models import Channel
    from consent.services import consent_grant, consent_withdraw
    from subjects.models import Contact

    contacts = list(Contact.objects.filter(email=normalise_email(email)).order_by("pk"))
    notice = ""
    status = 200
    if request.method == "POST" and contacts:
        wanted = set(request.POST.getlist("granted"))
        # Never an invented address: when the proxy chain does not tell, none is recorded.
        ip = client_ip(request)
        agent = request.META.get("HTTP_USER_AGENT", "")[:500] or "unknown browser"
        actor = Actor.subject(ip)
        evidence = {"channel": Channel.PORTAL, "actor": actor, "ip_address": ip, "user_agent": agent,
                    "reference": "privacy portal, session opened by an emailed link"}  # fmt: skip
        try:
            for topic in _topics(contacts, email):
                for contact in contacts:
                    if topic.code in wanted and not topic.granted:
                        consent_grant(
                            contact=contact, purpose_code=topic.code,
                            wording=_("I agree to: %(topic)s") % {"topic": topic.name}, **evidence,
                        )  # fmt: skip
                    elif topic.code not in wanted and topic.granted:
                        consent_withdraw(contact=contact, purpose_code=topic.code, **evidence)
            notice = _("Your choices are saved.")
        except (ApplicationError, ValidationError) as error:
            notice = getattr(error, "message", None) or "; ".join(error.messages)
            status = 400
    return render(
        request,
        "requests_dsar/preferences.html",
        {"topics": _topics(contacts, email), "notice": notice},
        status=status,
    )
