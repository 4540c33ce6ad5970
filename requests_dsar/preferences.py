"""The consent preferences page: the person's consents per topic, changed through the consent ledger.

Reached only by a browser that followed an emailed link (the session holds the
confirmed address), so nobody can see or change someone else's consents.
Withdrawing is as easy as giving (Art. 7(3)): one checkbox, one button.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.audit import Actor, client_ip
from core.errors import ApplicationError
from core.validators import normalise_email


@dataclass(frozen=True)
class Topic:
    code: str
    name: str
    granted: bool
    pending: bool


def _topics(contacts: list) -> list[Topic]:
    from consent.models import ConsentState, LegalBasis
    from consent.selectors import consent_state_for_contact

    topics: dict[str, Topic] = {}
    for contact in contacts:
        for row in consent_state_for_contact(contact=contact):
            if row.legal_basis != LegalBasis.CONSENT and not row.is_marketing:
                continue
            granted = row.state == ConsentState.State.GRANTED
            pending = row.state == ConsentState.State.PENDING
            seen = topics.get(row.purpose_code)
            topics[row.purpose_code] = Topic(
                row.purpose_code,
                str(row.purpose_name),
                granted or bool(seen and seen.granted),
                pending or bool(seen and seen.pending),
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
        ip = client_ip(request) or "0.0.0.0"  # noqa: S104 (evidence needs an address; tests have none)
        agent = request.META.get("HTTP_USER_AGENT", "")[:500]
        actor = Actor.subject(ip)
        try:
            for topic in _topics(contacts):
                for contact in contacts:
                    if topic.code in wanted and not topic.granted:
                        consent_grant(
                            contact=contact, purpose_code=topic.code, channel=Channel.PORTAL, actor=actor,
                            wording=_("I agree to: %(topic)s") % {"topic": topic.name},
                            ip_address=ip, user_agent=agent,
                        )  # fmt: skip
                    elif topic.code not in wanted and (topic.granted or topic.pending):
                        consent_withdraw(
                            contact=contact, purpose_code=topic.code, channel=Channel.PORTAL, actor=actor,
                            ip_address=ip, user_agent=agent,
                        )  # fmt: skip
            notice = _("Your choices are saved.")
        except (ApplicationError, ValidationError) as error:
            notice = getattr(error, "message", None) or "; ".join(error.messages)
            status = 400
    return render(
        request,
        "requests_dsar/preferences.html",
        {"topics": _topics(contacts), "notice": notice},
        status=status,
    )
