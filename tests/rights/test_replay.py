"""An erased person must not come back from a backup (Art. 17): erasure_replay."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from consent.models import SuppressionEntry
from consent.selectors import email_is_suppressed
from core.audit import Actor
from rights.models import ErasureJournalEntry
from rights.services import erasure_replay, subject_erase
from subjects.models import ApplicationDocument, Contact, Interaction, JobApplication, WebVisit

from .conftest import KARI, OLA
from .test_erasure import assert_nothing_remains

pytestmark = pytest.mark.django_db
DPO = Actor.system("test")
# What a nightly backup of the database holds, for this test: the register and the lists.
BACKED_UP = ["subjects", "consent", "rights"]


def _backup(path: Path) -> Path:
    call_command("dumpdata", *BACKED_UP, output=str(path), verbosity=0)
    return path


def _restore(path: Path) -> None:
    """Put the database back as the backup had it: what came later is lost, what was erased returns."""
    for model in (
        ErasureJournalEntry,
        SuppressionEntry,
        ApplicationDocument,
        WebVisit,
        Interaction,
        JobApplication,
    ):
        model.objects.all().delete()
    Contact.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)


def test_a_restored_backup_brings_the_person_back_and_erasure_replay_erases_them_again(kari, ola, tmp_path):
    backup = _backup(tmp_path / "backup.json")
    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    journal = tmp_path / "journal.jsonl"
    call_command("erasure_journal_export", output=str(journal))

    _restore(backup)
    # The restore brought Kari back and rolled the journal and the suppression list back too.
    assert Contact.objects.filter(email=KARI).exists()
    assert not ErasureJournalEntry.objects.exists() and not email_is_suppressed(email=KARI)

    out = io.StringIO()
    call_command("erasure_replay", journal=[str(journal)], stdout=out)

    assert_nothing_remains(KARI, [KARI, "Kari Nordmann", "+4791234567"])
    assert email_is_suppressed(email=KARI)
    assert ErasureJournalEntry.objects.count() == 1
    assert "1 erased people were back" in out.getvalue()
    assert KARI not in out.getvalue()
    # Ola, never erased, is all there.
    assert Contact.objects.filter(email=OLA).exists()
    assert Interaction.objects.filter(contact__email=OLA).count() == 2
    assert JobApplication.objects.filter(email=OLA).exists()


def test_replay_uses_the_journal_still_in_the_database_when_only_the_register_was_restored(kari, tmp_path):
    backup = _backup(tmp_path / "backup.json")
    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    call_command("loaddata", str(backup), verbosity=0)  # the register's tables only; the journal stayed
    assert Contact.objects.filter(email=KARI).exists()

    outcome = erasure_replay(actor=DPO)

    assert outcome.people == 1
    assert outcome.erased["subjects.contact"] == 1
    assert_nothing_remains(KARI, [KARI, "Kari Nordmann"])


def test_replay_since_the_backup_leaves_alone_a_person_who_came_back_before_it(kari, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    ErasureJournalEntry.objects.update(erased_at=timezone.now() - timedelta(days=30))
    # Kari applies for a job of her own accord, after her erasure and before the backup.
    from tests.subjects.factories import JobApplicationFactory

    JobApplicationFactory(email=KARI)

    dry = erasure_replay(actor=DPO, dry_run=True)
    outcome = erasure_replay(actor=DPO, since=timezone.now() - timedelta(days=1))

    assert dry.people == 1
    assert outcome.people == 0
    assert JobApplication.objects.filter(email=KARI).exists()


def test_replay_with_nothing_journalled_does_nothing(kari):
    assert erasure_replay(actor=DPO).people == 0
    assert Contact.objects.filter(email=KARI).exists()


def test_importing_the_same_journal_twice_adds_nothing(kari, tmp_path):
    subject_erase(emails=[KARI], actor=DPO, reference="DSAR-1")
    journal = tmp_path / "journal.jsonl"
    call_command("erasure_journal_export", output=str(journal))

    call_command("erasure_replay", journal=[str(journal), str(journal)], stdout=io.StringIO())

    assert ErasureJournalEntry.objects.count() == 1


def test_replay_refuses_a_file_that_is_not_a_journal(db, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"email_hash": "kari@firma.no"}) + "\n")
    with pytest.raises(CommandError, match="Line 1"):
        call_command("erasure_replay", journal=[str(bad)], stdout=io.StringIO())
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("erasure_replay", journal=[str(broken)], stdout=io.StringIO())
    assert not ErasureJournalEntry.objects.exists()
