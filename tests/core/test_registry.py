from __future__ import annotations

import dataclasses

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from core.checks import check_personal_data_declared, project_models
from core.registry import registry, subject_data
from subjects.models import Contact, WebVisit
from tests.subjects.factories import ContactFactory, InteractionFactory, JobApplicationFactory


def test_every_project_model_is_declared():
    assert check_personal_data_declared() == []
    assert {m for m in project_models()} <= {d.model for d in registry.declarations()}


def test_the_check_fails_for_a_model_that_is_not_registered():
    declaration = registry.get(WebVisit)
    registry.unregister(WebVisit)
    try:
        errors = check_personal_data_declared()
        with pytest.raises(SystemCheckError, match=r"subjects\.WebVisit"):
            call_command("check")
    finally:
        registry.register(declaration)
    assert [e.id for e in errors] == ["personvern.E001"]
    assert "ip_address" in errors[0].msg


def test_the_check_fails_for_a_field_left_out_of_a_declaration():
    declaration = registry.get(Contact)
    forgotten = dataclasses.replace(
        declaration,
        personal_fields=tuple(f for f in declaration.personal_fields if f != "job_title"),
    )
    registry.unregister(Contact)
    registry.register(forgotten)
    try:
        errors = check_personal_data_declared()
    finally:
        registry.unregister(Contact)
        registry.register(declaration)
    assert len(errors) == 1
    assert "job_title" in errors[0].msg and "subjects.Contact" in errors[0].msg


@pytest.mark.django_db
def test_subject_data_gathers_every_model_for_an_address(django_assert_max_num_queries):
    contact = ContactFactory(email="kari.nordmann@firma.no")
    InteractionFactory.create_batch(3, contact=contact)
    JobApplicationFactory(email="kari.nordmann@firma.no")
    ContactFactory(email="someone.else@firma.no")

    with django_assert_max_num_queries(len(registry.personal())):
        sections = subject_data("Kari.Nordmann@FIRMA.no")

    found = {s.declaration.label: s.rows for s in sections}
    assert set(found) == {"subjects.contact", "subjects.interaction", "subjects.jobapplication"}
    assert found["subjects.contact"][0]["email"] == "kari.nordmann@firma.no"
    assert len(found["subjects.interaction"]) == 3


@pytest.mark.django_db
def test_subject_data_query_count_does_not_grow_with_rows(django_assert_num_queries):
    contact = ContactFactory()
    InteractionFactory.create_batch(2, contact=contact)
    findable = sum(1 for d in registry.personal() if d.findable)
    with django_assert_num_queries(findable) as few:
        subject_data(contact.email)
    InteractionFactory.create_batch(40, contact=contact)
    with django_assert_num_queries(len(few.captured_queries)):
        subject_data(contact.email)
