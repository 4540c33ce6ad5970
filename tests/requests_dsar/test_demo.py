from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from requests_dsar import deadlines
from requests_dsar.models import DataSubjectRequest

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_requests_of_every_type_in_every_state_some_overdue():
    call_command("seed_demo", "--contacts", "150", "--interactions-per-contact", "1", stdout=io.StringIO())
    pairs = set(DataSubjectRequest.objects.values_list("type", "status"))
    assert pairs == {(t, s) for t in DataSubjectRequest.Type.values for s in DataSubjectRequest.Status.values}
    open_ = DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN)
    assert open_.filter(due_date__lt=deadlines.today()).exists()
    assert open_.filter(due_date__gte=deadlines.today()).exists()
    assert not open_.filter(due_date=None).exists()
    # Erased people's requests are kept without them.
    erased = DataSubjectRequest.objects.filter(type="erasure", status="completed")
    assert set(erased.values_list("email", flat=True)) == {""}
