"""For every register, through the one removal engine (issue 8, Done when):

generated registers with holds of every kind, guards (open requests by address or
by a linked contact, objections), policies that delete or anonymise. After the
sweep and after an erasure: no held, guarded or not-due person is gone, every due
one is gone or anonymised, and a search of every text column of every table
(hand-written SQL over information_schema) finds none of the removed people's
name, email or phone.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.audit import Actor
from requests_dsar.models import DataSubjectRequest, ProcessingRestriction
from retention.models import LegalHold, RetentionPolicy, SweepRun
from retention.services import policy_sweep
from rights.services import subject_erase
from subjects.models import Contact, Interaction
from tests.conftest import needs_postgres
from tests.requests_dsar.factories import RequestFactory

from .factories import (
    ContactFactory,
    InteractionFactory,
    LegalHoldFactory,
    OrganisationFactory,
    WebVisitFactory,
)

pytestmark = [pytest.mark.django_db, needs_postgres]

PERIOD = 1000

person = st.fixed_dictionaries(
    {
        "last_seen_days": st.sampled_from([None, 10, PERIOD - 5, PERIOD + 5, 2500]),
        "organisation": st.sampled_from(["none", "prospect", "customer"]),
        "hold": st.sampled_from(["none", "contact", "organisation", "lifted", "expired"]),
        "guard": st.sampled_from(["none", "open_request", "linked_request", "objection"]),
        "web_visit": st.booleans(),
        "closed_request": st.booleans(),
    }
)


class Rollback(Exception):
    pass


def text_columns() -> dict[str, list[str]]:
    """Every text column of every table in the database, by table (information_schema)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t "
            "ON t.table_name = c.table_name AND t.table_schema = c.table_schema "
            "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "AND c.data_type IN ('character varying', 'text', 'character', 'json', 'jsonb')"
        )
        found: dict[str, list[str]] = {}
        for table, column in cursor.fetchall():
            found.setdefault(table, []).append(column)
    return found


def where_found(needles: list[str]) -> list[str]:
    """table.column of every text column holding any of ``needles`` (case-insensitive)."""
    patterns = [f"%{n.lower()}%" for n in needles if n]
    hits = []
    with connection.cursor() as cursor:
        for table, columns in text_columns().items():
            q = connection.ops.quote_name
            checks = " OR ".join(f"lower({q(c)}::text) LIKE ANY(%s)" for c in columns)
            selected = ", ".join(q(c) + "::text" for c in columns)
            sql = f"SELECT {selected} FROM {q(table)} WHERE {checks}"
            cursor.execute(sql, [patterns] * len(columns))
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value and any(p.strip("%") in value.lower() for p in patterns):
                        hits.append(f"{table}.{column}")
    return sorted(set(hits))


def build(number: int, spec: dict, today) -> tuple[Contact, list[str], bool]:
    """One person as ``spec`` says: the contact, their identifiers, whether they are protected."""
    now = timezone.now()
    organisation = {
        "none": lambda: None,
        "prospect": lambda: OrganisationFactory(is_customer=False),
        "customer": lambda: OrganisationFactory(is_customer=True),
    }[spec["organisation"]]()
    name = f"Testperson Nummer{number:03d}x"
    email = f"person{number:03d}.unik@eksempel.no"
    phone = f"+4791{number:03d}555"
    contact = ContactFactory(organisation=organisation, name=name, email=email, phone=phone)
    Contact.objects.filter(pk=contact.pk).update(created_at=now - timedelta(days=3000))
    if spec["last_seen_days"] is not None:
        when = now - timedelta(days=spec["last_seen_days"])
        InteractionFactory(contact=contact, occurred_at=when, summary=f"Møte med {name}")
        Contact.objects.filter(pk=contact.pk).update(last_interaction_at=when)
    if spec["web_visit"]:
        WebVisitFactory(contact=contact, visited_at=now - timedelta(days=5), referrer=f"https://x/?e={email}")
    if spec["closed_request"]:
        closed = RequestFactory(
            email=email, name=name, status=DataSubjectRequest.Status.COMPLETED, closed_at=now
        )
        closed.contacts.add(contact)
    protected = spec["organisation"] == "customer"
    hold = spec["hold"]
    if hold == "organisation" and organisation is not None:
        LegalHoldFactory(scope=LegalHold.Scope.ORGANISATION, contact=None, organisation=organisation)
        protected = True
    elif hold in ("contact", "organisation"):
        LegalHoldFactory(contact=contact)
        protected = True
    elif hold == "lifted":
        LegalHoldFactory(contact=contact, lifted_at=now)
    elif hold == "expired":
        LegalHoldFactory(
            contact=contact, starts_on=today - timedelta(days=60), ends_on=today - timedelta(days=1)
        )
    guard = spec["guard"]
    if guard == "open_request":
        RequestFactory(email=email, status=DataSubjectRequest.Status.IN_PROGRESS)
    elif guard == "linked_request":
        RequestFactory(
            email=f"annen{number}@privat.no", status=DataSubjectRequest.Status.IN_PROGRESS
        ).contacts.add(contact)
    elif guard == "objection":
        ProcessingRestriction.objects.create(email=email, kind=ProcessingRestriction.Kind.OBJECTION)
    protected = protected or guard != "none"
    return contact, [name, email, phone], protected


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people=st.lists(person, min_size=1, max_size=4),
    action=st.sampled_from([RetentionPolicy.Action.DELETE, RetentionPolicy.Action.ANONYMISE]),
    category_hold=st.sampled_from(["none", "web_visit", "interaction", "contact"]),
)
def test_sweep_and_erasure_remove_exactly_what_is_due_and_leave_no_trace(people, action, category_hold):
    today = timezone.localdate()
    try:
        with transaction.atomic():
            RetentionPolicy.objects.update(enabled=False)
            policy = RetentionPolicy.objects.create(
                code="property-removal", category="contact", period_days=PERIOD, fallback_anchor="",
                max_share=1, action=action,
                keep_for_statistics=["organisation"] if action == RetentionPolicy.Action.ANONYMISE else [],
            )  # fmt: skip
            if category_hold != "none":
                LegalHoldFactory(scope=LegalHold.Scope.CATEGORY, contact=None, category=category_hold)
            built = [(spec, *build(n, spec, today)) for n, spec in enumerate(people)]

            run = policy_sweep(policy=policy, trigger=SweepRun.Trigger.COMMAND, batch_size=2)

            assert run.status in (SweepRun.Status.FINISHED, SweepRun.Status.HELD), run.errors
            removed: list[str] = []
            for spec, contact, identifiers, protected in built:
                due = spec["last_seen_days"] is not None and spec["last_seen_days"] >= PERIOD
                held_by_category = (
                    category_hold == "contact"
                    or (category_hold == "web_visit" and spec["web_visit"])
                    or (category_hold == "interaction" and spec["last_seen_days"] is not None)
                )
                row = Contact.objects.filter(pk=contact.pk).values("email", "name").first()
                if protected or held_by_category or not due:
                    assert row is not None and row["email"] == contact.email, spec
                    assert Interaction.objects.filter(contact_id=contact.pk).count() == (
                        spec["last_seen_days"] is not None
                    ), spec
                elif action == RetentionPolicy.Action.DELETE:
                    assert row is None, spec
                    removed += identifiers
                else:
                    assert row is not None and row["name"] == "" and row["email"].endswith(".invalid"), spec
                    removed += identifiers
            assert where_found(removed) == []

            # Then everyone asks to be erased: the held stay, the rest leave no trace.
            for spec, contact, identifiers, protected in built:
                if not Contact.objects.filter(pk=contact.pk, email=contact.email).exists():
                    continue
                subject_erase(emails=[contact.email], actor=Actor.system("test"), reference=f"P-{contact.pk}")
                held = spec["hold"] in ("contact", "organisation") or category_hold in ("contact",)
                if held:
                    assert Contact.objects.filter(pk=contact.pk).exists(), spec
                elif spec["guard"] != "open_request" and category_hold == "none":
                    assert not Contact.objects.filter(pk=contact.pk).exists(), spec
                    assert where_found(identifiers) == [], spec
            raise Rollback
    except Rollback:
        pass
