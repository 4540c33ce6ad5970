from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Max

from core.validators import normalise_org_number, normalise_phone
from subjects.models import Contact, Interaction, JobApplication, Organisation, WebVisit

# Transactional (COPY and sequences are exercised for real) and serialised, so that the
# purposes and policies that data migrations seed are back for each test after the flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_it_loads_a_consistent_norwegian_register():
    call_command("seed_demo", "--contacts", "60", "--interactions-per-contact", "4", stdout=_Sink())

    assert Contact.objects.count() == 60
    assert Organisation.objects.count() == 3
    assert Interaction.objects.count() > 0
    assert JobApplication.objects.exists() and WebVisit.objects.exists()
    for number in Organisation.objects.exclude(org_number="").values_list("org_number", flat=True):
        assert normalise_org_number(number) == number
    for contact in Contact.objects.all():
        assert contact.email == contact.email.lower()
        assert normalise_phone(contact.phone) == contact.phone
    # last_interaction_at is the latest of each contact's interactions, or empty without any.
    latest = dict(
        Interaction.objects.values("contact").annotate(m=Max("occurred_at")).values_list("contact", "m")
    )
    for pk, last in Contact.objects.values_list("pk", "last_interaction_at"):
        assert last == latest.get(pk)
    functional = Contact.objects.filter(email__startswith="post@")
    assert all(c.email_kind == Contact.EmailKind.FUNCTIONAL for c in functional)


def test_interactions_are_spread_over_five_years():
    call_command("seed_demo", "--contacts", "200", stdout=_Sink())
    years = Interaction.objects.values("occurred_at__year").annotate(n=Count("id"))
    assert len(years) >= 5


def test_a_second_run_with_if_empty_changes_nothing():
    call_command("seed_demo", "--contacts", "20", stdout=_Sink())
    before = Contact.objects.count(), Interaction.objects.count()
    out = _Sink()
    call_command("seed_demo", "--contacts", "20", "--if-empty", stdout=out)
    assert (Contact.objects.count(), Interaction.objects.count()) == before
    assert "already has contacts" in out.text


def test_a_second_run_without_if_empty_adds_more_without_clashes():
    call_command("seed_demo", "--contacts", "20", stdout=_Sink())
    call_command("seed_demo", "--contacts", "20", "--seed", "7", stdout=_Sink())
    assert Contact.objects.count() == 40
    # Sequences moved past the explicit ids: the ORM can still add rows.
    Organisation.objects.create(name="Etter demo AS")


def test_it_refuses_a_nonsensical_size():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_demo", "--contacts", "0", stdout=_Sink())
    assert not Contact.objects.exists()


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, value: str) -> None:
        self.text += value

    def flush(self) -> None:
        pass
