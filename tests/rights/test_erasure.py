from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.models import SuppressionEntry
from consent.selectors import email_is_suppressed
from core.audit import Actor
from core.crypto import email_hash
from core.models import AuditEvent
from core.registry import Erasure, accounting_records, registry
from rights.models import ErasureJournalEntry
from rights.rules import ACCOUNTING_KEPT_BECAUSE, REFERENCED_BY_KEPT
from rights.services import subject_erase
from subjects.models import (
    ApplicationDocument,
    Contact,
    Interaction,
    JobApplication,
    WebVisit,
    private_storage,
)

from .conftest import KARI, OLA, make_person

pytestmark = pytest.mark.django_db
DPO = Actor.system("test")


def _identifiers(person) -> list[str]:
    return [person.email, person.contact.name, person.contact.phone]


def assert_nothing_remains(email: str, identifiers: list[str]) -> None:
    """Walk every registered model: no row of the person, except KEEP rows that hold no clear identifier."""
    for declaration in registry.personal():
        if not declaration.findable:
            continue
        rows = declaration.export([email])
        if declaration.erasure is Erasure.KEEP:
            text = json.dumps(rows, default=str).lower()
            for identifier in identifiers:
                assert identifier.lower() not in text, f"{declaration.label} keeps a clear identifier"
            continue
        assert rows == [], f"{declaration.label} still holds the person"


def test_erasure_leaves_nothing_of_the_person_in_any_registered_model(kari, ola):
    before = {d.label for d in registry.personal() if d.findable and d.rows_for([KARI]).exists()}
    # The walk below must be able to fail: the person is in every model of the register first.
    assert before >= {
        "subjects.contact", "subjects.interaction", "subjects.webvisit",
        "subjects.jobapplication", "subjects.applicationdocument",
    }  # fmt: skip

    outcome = subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    assert_nothing_remains(KARI, _identifiers(kari))
    assert outcome.erased["subjects.contact"] == 1
    # Anonymised, not erased: the interactions stay for statistics, without the person.
    assert "subjects.interaction" not in outcome.erased
    assert outcome.anonymised["subjects.interaction"] == 3
    assert outcome.erased["subjects.webvisit"] == 1
    assert outcome.erased["subjects.jobapplication"] == 1
    assert outcome.erased["subjects.applicationdocument"] == 1
    # Ola is untouched.
    assert Contact.objects.filter(email=OLA).count() == 1
    assert Interaction.objects.filter(contact__email=OLA).count() == 2
    assert JobApplication.objects.filter(email=OLA).count() == 1
    assert WebVisit.objects.filter(contact__email=OLA).count() == 1


def test_erasure_keeps_the_suppression_entry_and_the_journal_and_names_them(kari):
    outcome = subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    kept = dict(outcome.kept)
    assert "consent.suppressionentry" in kept and "rights.erasurejournalentry" in kept
    assert all(why for why in kept.values())
    assert email_is_suppressed(email=KARI)
    assert SuppressionEntry.objects.get().reason == SuppressionEntry.Reason.ERASURE
    entry = ErasureJournalEntry.objects.get()
    assert entry.email_hash == email_hash(KARI, purpose="erasure_journal")
    assert entry.reference == "DSAR-1"
    # The journal holds no address in clear.
    assert KARI not in json.dumps(list(ErasureJournalEntry.objects.values()), default=str)


def test_erasure_is_audited_with_field_names_only(kari):
    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    events = AuditEvent.objects.filter(action="rights.erase")
    by_type = {e.target_type: e for e in events}
    assert "subjects.contact" in by_type
    assert "email" in by_type["subjects.contact"].changed_fields
    text = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert KARI not in text and "Kari Nordmann" not in text


def test_erasure_deletes_the_documents_from_private_storage_after_commit(
    kari, django_capture_on_commit_callbacks
):
    name = kari.document.file.name
    assert private_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    assert private_storage.exists(name), "files go only once the erasure is committed"
    for callback in callbacks:
        callback()

    assert not private_storage.exists(name)
    assert not ApplicationDocument.objects.exists() or ApplicationDocument.objects.filter(
        application__email=OLA
    )


def test_a_failed_erasure_keeps_the_documents(kari):
    name = kari.document.file.name
    with pytest.raises(ValidationError):
        subject_erase(emails=[""], actor=DPO, reference="DSAR-1")
    assert private_storage.exists(name)
    assert Contact.objects.filter(email=KARI).exists()


def test_erasure_runs_in_one_transaction_and_writes_nothing_when_a_step_fails(kari):
    declaration = registry.get(WebVisit)

    def broken(emails):
        raise RuntimeError("disk full")

    registry.unregister(WebVisit)
    registry.register(dataclasses.replace(declaration, find_rows=broken))
    try:
        with pytest.raises(RuntimeError):
            subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    finally:
        registry.unregister(WebVisit)
        registry.register(declaration)
    assert Contact.objects.filter(email=KARI).exists()
    assert JobApplication.objects.filter(email=KARI).exists()
    assert not SuppressionEntry.objects.exists() and not ErasureJournalEntry.objects.exists()


def test_erasure_uses_set_based_statements_whose_number_does_not_grow_with_rows(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_person(KARI, interactions=2)
    make_person(OLA, interactions=80, name="Ola Hansen")
    with CaptureQueriesContext(connection) as few:
        subject_erase(emails=[KARI], actor=DPO, reference="A")
    with CaptureQueriesContext(connection) as many:
        subject_erase(emails=[OLA], actor=DPO, reference="B")
    assert len(many.captured_queries) == len(few.captured_queries)
    # Interactions stay for statistics, cut from the person (Erasure.ANONYMISE).
    assert Interaction.objects.count() == 82
    assert not Interaction.objects.exclude(contact=None).exists()
    assert set(Interaction.objects.values_list("summary", flat=True)) == {""}


def test_records_the_accounting_law_requires_are_kept_and_named(kari, ola):
    # No accounting data is in the register today: this stands in a model that is, declared
    # with the rule (bokføringsloven § 13: five years after the end of the financial year).
    declaration = registry.get(JobApplication)
    ruled = dataclasses.replace(
        declaration, must_keep=accounting_records("submitted_at"), kept_because=ACCOUNTING_KEPT_BECAUSE
    )
    registry.unregister(JobApplication)
    registry.register(ruled)
    try:
        old = make_person("kari.gammel@firma.no")
        JobApplication.objects.filter(pk=old.application.pk).update(submitted_at="2019-06-01T12:00:00Z")
        outcome = subject_erase(emails=[KARI, "kari.gammel@firma.no"], actor=DPO, reference="DSAR-1")
    finally:
        registry.unregister(JobApplication)
        registry.register(declaration)

    assert ("subjects.jobapplication", str(ACCOUNTING_KEPT_BECAUSE)) in outcome.kept
    assert "bokføringsloven § 13" in str(ACCOUNTING_KEPT_BECAUSE)
    # This year's record is kept; the 2019 one is past its five years and goes.
    assert list(JobApplication.objects.filter(email__in=[KARI, "kari.gammel@firma.no"])) == [kari.application]
    # Its documents are no accounting records: they go.
    assert not ApplicationDocument.objects.filter(application__email=KARI).exists()
    assert not Contact.objects.filter(email=KARI).exists()


def test_a_kept_record_keeps_the_row_it_belongs_to_and_says_why(kari):
    declaration = registry.get(ApplicationDocument)
    ruled = dataclasses.replace(
        declaration, must_keep=accounting_records("uploaded_at"), kept_because=ACCOUNTING_KEPT_BECAUSE
    )
    registry.unregister(ApplicationDocument)
    registry.register(ruled)
    try:
        outcome = subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    finally:
        registry.unregister(ApplicationDocument)
        registry.register(declaration)

    # Deleting the application would take the kept document with it (CASCADE).
    assert ApplicationDocument.objects.filter(pk=kari.document.pk).exists()
    assert JobApplication.objects.filter(pk=kari.application.pk).exists()
    assert ("subjects.jobapplication", str(REFERENCED_BY_KEPT)) in outcome.kept
    assert private_storage.exists(kari.document.file.name)


def test_a_legal_hold_on_the_contact_keeps_everything_about_them(kari):
    from django.apps import apps

    try:
        LegalHold = apps.get_model("retention", "LegalHold")
    except LookupError:
        pytest.skip("the retention app has no legal holds")
    LegalHold.objects.create(
        scope="contact", contact=kari.contact, reason="Tvist 2026-17", ends_on="2099-01-01"
    )

    outcome = subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    assert outcome.erased == {}
    kept = dict(outcome.kept)
    assert "Art. 17(3)(e)" in kept["subjects.contact"]
    assert Contact.objects.filter(email=KARI).exists()
    assert Interaction.objects.filter(contact=kari.contact).count() == 3


def test_a_legal_hold_on_a_category_keeps_only_that_category(kari):
    from django.apps import apps

    try:
        LegalHold = apps.get_model("retention", "LegalHold")
    except LookupError:
        pytest.skip("the retention app has no legal holds")
    LegalHold.objects.create(
        scope="category", category="job_application", reason="Klagesak", ends_on="2099-01-01"
    )

    outcome = subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    assert JobApplication.objects.filter(email=KARI).exists()
    assert ApplicationDocument.objects.filter(application__email=KARI).exists()
    assert "subjects.jobapplication" in dict(outcome.kept)
    assert not Contact.objects.filter(email=KARI).exists()


def test_erasing_twice_is_harmless(kari):
    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    again = subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    assert again.erased == {}
    assert ErasureJournalEntry.objects.count() == 1
    assert SuppressionEntry.objects.count() == 1


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mine=st.integers(min_value=0, max_value=6),
    theirs=st.integers(min_value=0, max_value=6),
    case=st.sampled_from(["lower", "upper", "padded"]),
)
def test_erasure_removes_all_of_the_person_and_nothing_of_anyone_else(db, mine, theirs, case):
    from django.db import transaction

    with transaction.atomic():
        make_person(KARI, interactions=mine)
        make_person(OLA, interactions=theirs, name="Ola Hansen")
        given_email = {"lower": KARI, "upper": KARI.upper(), "padded": f"  {KARI} "}[case]

        subject_erase(emails=[given_email], actor=DPO, reference="P")

        assert_nothing_remains(KARI, [KARI, "Kari Nordmann"])
        assert Interaction.objects.filter(contact__email=OLA).count() == theirs
        assert (
            Contact.objects.filter(email=OLA).exists() and JobApplication.objects.filter(email=OLA).exists()
        )
        transaction.set_rollback(True)


def test_each_erasure_is_copied_to_the_journal_file_outside_the_database(
    kari, tmp_path: Path, settings, django_capture_on_commit_callbacks
):
    settings.ERASURE_JOURNAL_FILE = str(tmp_path / "journal.jsonl")

    with django_capture_on_commit_callbacks(execute=True):
        subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    lines = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert [(e["email_hash"], e["reference"]) for e in lines] == [
        (email_hash(KARI, purpose="erasure_journal"), "DSAR-1")
    ]
    assert KARI not in (tmp_path / "journal.jsonl").read_text()


def test_the_journal_exports_as_json_lines_of_keyed_hashes(kari, tmp_path: Path):
    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    call_command("erasure_journal_export", output=str(tmp_path / "export.jsonl"))

    exported = [json.loads(line) for line in (tmp_path / "export.jsonl").read_text().splitlines()]
    assert [(e["email_hash"], e["reference"]) for e in exported] == [
        (email_hash(KARI, purpose="erasure_journal"), "DSAR-1")
    ]


def test_a_lifted_hold_no_longer_stops_the_erasure_and_stays_without_the_contact(kari):
    from django.apps import apps
    from django.utils import timezone

    try:
        LegalHold = apps.get_model("retention", "LegalHold")
    except LookupError:
        pytest.skip("the retention app has no legal holds")
    # A lifted hold is no longer active, but its row still refers to the contact (PROTECT):
    # erasure releases it, as the retention sweep does, instead of stopping for good.
    LegalHold.objects.create(
        scope="contact",
        contact=kari.contact,
        reason="Avsluttet sak",
        ends_on="2099-01-01",
        lifted_at=timezone.now(),
    )

    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    assert not Contact.objects.filter(email=KARI).exists()
    # Item 3 of issue 8: a hold is a record of a legal duty, lifted, never deleted; it
    # stays, its link to the erased contact cut.
    hold = LegalHold.objects.get()
    assert hold.contact_id is None
    assert hold.lifted_at is not None
    assert ErasureJournalEntry.objects.count() == 1


def test_no_kept_model_would_be_deleted_by_a_cascade_from_an_erased_one():
    # A KEEP row with ON DELETE CASCADE to a model that erasure deletes would vanish with it,
    # silently breaking what its declaration promises (Art. 17(3)); PROTECT or SET_NULL is fine.
    from django.db import models

    erased = {d.model for d in registry.personal() if d.erasure is not Erasure.KEEP}
    for declaration in registry.personal():
        if declaration.erasure is not Erasure.KEEP:
            continue
        for model_field in declaration.model._meta.concrete_fields:
            remote = getattr(model_field, "remote_field", None)
            if isinstance(model_field, models.ForeignKey) and remote.model in erased:
                assert remote.on_delete is not models.CASCADE, f"{declaration.label}.{model_field.name}"


def test_erasure_reaches_the_consent_ledger_too(kari, ola):
    from consent.models import ConsentEvent, Purpose
    from tests.consent.factories import grant

    if not Purpose.objects.filter(code="marketing_products").exists():
        pytest.skip("the consent purposes are not loaded")
    grant(kari.contact)
    grant(ola.contact)
    assert registry.get(ConsentEvent).rows_for([KARI]).exists()

    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")

    assert_nothing_remains(KARI, _identifiers(kari))
    assert registry.get(ConsentEvent).rows_for([OLA]).exists()
