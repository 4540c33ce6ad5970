"""Random acts by random actors over random contacts: the check equals a replay written apart here,
and no act by anyone but the person ever lifts an opt-out (issue 9, "Done when")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import selectors, services
from consent.models import ConsentDecision
from core.audit import Actor
from core.errors import ApplicationError
from subjects.models import Contact
from tests.consent.factories import PERSON, WORDING
from tests.subjects.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

# (address, kind): a named person, a function's address, a person from a third party that
# does not attest consent, and a customer whose address came with a sale and an opt-out.
PEOPLE = (
    ("ola.nordmann@firma.no", "named"),
    ("post@firma.no", "functional"),
    ("kari@innkjop.no", "third_party"),
    ("per.hansen@kunde.no", "customer"),
)
# products: § 15(2) similar products; web analytics: consent, but not marketing.
TOPICS = ("marketing_products", "marketing_events", "web_analytics")
MARKETING = frozenset({"marketing_products", "marketing_events"})
ACTS = (
    "person_grant", "person_withdraw", "person_object", "signup_confirmed",
    "stranger_signup", "staff_grant", "staff_withdraw", "import_grant", "import_withdraw",
    "integration_grant", "integration_object", "erase", "reimport",
)  # fmt: skip

acts = st.lists(
    st.tuples(
        st.sampled_from(ACTS),
        st.integers(min_value=0, max_value=len(PEOPLE) - 1),
        st.sampled_from(TOPICS),
    ),
    min_size=1,
    max_size=12,
)


# --- The replay, written apart from consent.machine --------------------------------------


@dataclass
class Person:
    kind: str
    exists: bool = True
    suppressed: bool = False
    objected: bool = False
    topics: dict[str, str] = field(default_factory=dict)  # "yes" | "no" | "objected"

    def may_receive(self, topic: str) -> bool:
        if topic not in MARKETING:
            return self.topics.get(topic) == "yes"  # Art. 6(1)(a): its own consent only
        if self.kind == "third_party":
            return False  # the source did not attest the person's consent to sharing
        if self.topics.get(topic) == "yes":
            return True
        if self.topics.get(topic) in ("no", "objected") or self.objected or self.suppressed:
            return False
        if self.kind == "functional":
            return True
        return self.kind == "customer" and topic == "marketing_products"

    def opted_out(self, topic: str) -> bool:
        if topic not in MARKETING:
            return self.topics.get(topic) in ("no", "objected")
        return self.topics.get(topic) in ("no", "objected") or self.objected or self.suppressed


def replay(model: Person, act: str, topic: str) -> None:
    if not model.exists:
        if act == "reimport":
            model.exists = True
        return
    if act == "signup_confirmed" and topic not in MARKETING:
        return  # the sign-up form offers marketing topics only
    if act in ("person_object", "integration_object") and topic not in MARKETING:
        act = "person_withdraw"  # objecting to a consent is withdrawing it (Art. 7(3))
    if act in ("person_grant", "signup_confirmed"):
        model.topics[topic] = "yes"  # the person's own, fresh consent
    elif act in ("staff_grant", "import_grant", "integration_grant"):
        if not model.opted_out(topic):
            model.topics[topic] = "yes"
    elif act in ("person_withdraw", "staff_withdraw", "import_withdraw"):
        if model.topics.get(topic) not in ("no", "objected"):
            model.topics[topic] = "no"
            model.suppressed = model.suppressed or topic in MARKETING
    elif act in ("person_object", "integration_object"):
        if not model.objected:
            model.objected = True
            for name, value in model.topics.items():
                if value == "yes" and name in MARKETING:
                    model.topics[name] = "objected"
        model.suppressed = True
    elif act == "erase":
        model.exists = False
        model.topics, model.objected = {}, False  # the ledger goes; the suppression list stays


# --- The same acts through the services ------------------------------------------------------


def _create(email: str, kind: str) -> Contact:
    if kind == "functional":
        return ContactFactory(email=email, email_kind=Contact.EmailKind.FUNCTIONAL)
    if kind == "third_party":
        return ContactFactory(email=email, source_type="data_collector", source_attests_consent=False)
    if kind == "customer":
        contact = ContactFactory(email=email, organisation=OrganisationFactory(is_customer=True))
        services.customer_address_record(
            contact=contact, sale_reference="ORD-1", obtained_at=timezone.now(), opt_out_offered=True,
            actor=Actor.system("test"),
        )  # fmt: skip
        return contact
    return ContactFactory(email=email, email_kind=Contact.EmailKind.PERSONAL)


def apply(act: str, email: str, kind: str, topic: str, staff: Actor) -> None:
    contact = Contact.objects.filter(email=email).first()
    if contact is None:
        if act == "reimport":
            _create(email, kind)
        return
    person = {"actor": PERSON, "ip_address": "192.0.2.7", "user_agent": "test"}
    staff_ev = {"channel": "staff", "actor": staff, "reference": "phone call"}
    import_ev = {"channel": "import", "actor": Actor.system("import"), "reference": "fair-2026"}
    api_ev = {"channel": "api", "actor": Actor.api_client("crm"), "reference": "crm"}
    if act == "person_grant":
        services.consent_grant(
            contact=contact, purpose_code=topic, channel="portal", wording=WORDING, **person
        )
    elif act == "person_withdraw":
        services.consent_withdraw(contact=contact, purpose_code=topic, channel="portal", **person)
    elif act == "person_object":
        services.objection_record(contact=contact, purpose_code=topic, channel="email_link", **person)
    elif act in ("signup_confirmed", "stranger_signup"):
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.signup_create(
                email=email, name="x", topics=[topic], language="nb", ip_address="192.0.2.9"
            )
        if act == "signup_confirmed":
            token = re.search(r"/consent/confirm/([^\s/]+)/", mail.outbox[-1].body).group(1)
            services.signup_confirm(token=token, ip_address="192.0.2.7", user_agent="test")
    elif act == "staff_grant":
        services.consent_grant(contact=contact, purpose_code=topic, wording=WORDING, **staff_ev)
    elif act == "staff_withdraw":
        services.consent_withdraw(contact=contact, purpose_code=topic, **staff_ev)
    elif act == "import_grant":
        services.consent_grant(contact=contact, purpose_code=topic, wording=WORDING, **import_ev)
    elif act == "import_withdraw":
        services.consent_withdraw(contact=contact, purpose_code=topic, **import_ev)
    elif act == "integration_grant":
        services.consent_record(contact=contact, purpose=topic, act="grant", authority="integration",
                                wording=WORDING, **api_ev)  # fmt: skip
    elif act == "integration_object":
        services.consent_record(
            contact=contact, purpose=topic, act="object", authority="integration", **api_ev
        )
    elif act == "erase":
        Contact.objects.filter(pk=contact.pk).delete()


def checked(topic: str) -> dict[str, bool]:
    emails = [email for email, _kind in PEOPLE]
    batch = selectors.consent_allowed_emails(emails=emails, purpose_code=topic)
    result = {}
    for email, _kind in PEOPLE:
        contact = Contact.objects.filter(email=email).first()
        if contact is None:
            assert email not in batch
            continue
        single = selectors.consent_allowed(contact=contact, purpose_code=topic)
        assert single == (email in batch), "the single and the batch check must agree"
        result[email] = single
    return result


def stored_decisions() -> set[tuple[str, str, str]]:
    """(address, purpose, basis) of every stored decision that clears, as the check reads it today."""
    return {
        (row.email, row.purpose.code, row.basis)
        for row in ConsentDecision.objects.exclude(basis="").select_related("purpose")
        if row.until is None or row.until >= timezone.localdate()
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=acts)
def test_the_check_equals_an_independent_replay_and_only_the_person_lifts_an_opt_out(sequence, staff_user):
    staff = Actor.staff(staff_user)
    with transaction.atomic():
        models = {email: Person(kind) for email, kind in PEOPLE}
        for email, kind in PEOPLE:
            _create(email, kind)
        before = {t: checked(t) for t in TOPICS}
        for act, index, topic in sequence:
            email, kind = PEOPLE[index]
            opted_out = {t: models[email].exists and models[email].opted_out(t) for t in TOPICS}
            try:
                with transaction.atomic():
                    apply(act, email, kind, topic, staff)
            except (ApplicationError, ValidationError):
                pass  # refused: the replay decides whether it should have been
            replay(models[email], act, topic)
            # The stored decision (ConsentDecision) equals the replay after every act, and a
            # refill from scratch (the fill migration's statements) writes exactly the same rows.
            stored = stored_decisions()
            assert {(e, t) for e, t, _basis in stored if t in MARKETING} == {
                (e, t) for e, m in models.items() if m.exists for t in MARKETING if m.may_receive(t)
            }, (act, email)
            services.decisions_refresh()
            assert stored_decisions() == stored, (act, email)
            for t in TOPICS:
                now = checked(t)
                expected = {e: m.may_receive(t) for e, m in models.items() if m.exists}
                assert now == expected, (act, email, t)
                if act not in ("person_grant", "signup_confirmed") and opted_out[t] and models[email].exists:
                    # Nobody but the person lifts an opt-out.
                    assert not now.get(email, False) or before[t].get(email, False)
                before[t] = now
        transaction.set_rollback(True)
