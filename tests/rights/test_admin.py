from __future__ import annotations

import pytest
from django.urls import reverse

from core.audit import Actor
from rights.models import ErasureJournalEntry
from rights.services import subject_erase

from .conftest import KARI

pytestmark = pytest.mark.django_db
URL = "admin:rights_erasurejournalentry_changelist"


def test_the_privacy_officer_sees_the_journal_without_any_address(kari, staff_client):
    subject_erase(emails=[KARI], actor=Actor.system("test"), reference="DSAR-2026-0042")

    response = staff_client.get(reverse(URL))

    assert response.status_code == 200
    assert "DSAR-2026-0042" in response.content.decode()
    assert KARI not in response.content.decode()


def test_nobody_can_add_change_or_delete_journal_entries(kari, staff_client):
    subject_erase(emails=[KARI], actor=Actor.system("test"), reference="DSAR-1")
    entry = ErasureJournalEntry.objects.get()

    assert staff_client.get(reverse("admin:rights_erasurejournalentry_add")).status_code == 403
    delete = staff_client.post(
        reverse("admin:rights_erasurejournalentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert ErasureJournalEntry.objects.filter(pk=entry.pk).exists()


def test_a_colleague_without_permission_and_a_stranger_cannot_see_it(client, colleague, stranger):
    client.force_login(colleague)
    assert client.get(reverse(URL)).status_code == 403
    client.force_login(stranger)
    assert client.get(reverse(URL)).status_code == 302
