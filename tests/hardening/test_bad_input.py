"""Found broken 9: hostile input answers a clear 400 or a form error, never a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from consent.models import ConsentEvent, Purpose
from retention.models import RetentionPolicy
from subjects.models import Contact, Interaction
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db

ADMIN_GETS = [
    # NUL bytes in search and filters reach PostgreSQL (58 cases in the report).
    "/admin/subjects/contact/?q=a%00b",
    "/admin/subjects/contact/?email__exact=%00",
    "/admin/core/auditevent/?action=x%00",
    # Invalid UTF-8 in a query string.
    "/admin/subjects/contact/?q=%ff%fe",
    # An overflowing year in date filters.
    "/admin/core/auditevent/?at__year=99999",
    "/admin/core/auditevent/?at__year=2026&at__month=99",
    "/admin/core/auditevent/?at__gte=99999-01-01",
    "/admin/consent/consentevent/?occurred_at__year=10000",
    "/admin/retention/sweeprun/?started_at__gte=99999-12-31+00%3A00%3A00%2B00%3A00",
    "/admin/retention/sweeprun/?started_at__year=99999",
    "/admin/subjects/interaction/?contact__id__exact=99999999999999999999",
    "/admin/django_celery_beat/crontabschedule/?q=%00",
    # Autocomplete widgets re-rendered with a non-numeric id.
    "/admin/subjects/interaction/add/?contact=abc",
    "/admin/subjects/contact/add/?organisation=1e5",
    "/admin/requests_dsar/datasubjectrequest/add/?contacts=1,x",
    "/admin/autocomplete/?app_label=subjects&model_name=interaction&field_name=contact&term=%00",
]


@pytest.mark.parametrize("url", ADMIN_GETS)
def test_admin_answers_hostile_query_strings_without_a_500(staff_client, url):
    ContactFactory()
    response = staff_client.get(url)
    assert response.status_code in (200, 302, 400, 403), response.status_code


def test_an_action_with_a_non_numeric_selection_is_a_400(staff_client):
    ContactFactory()
    response = staff_client.post(
        reverse("admin:subjects_contact_changelist"),
        {"action": "export_csv", "_selected_action": ["1", "abc"], "index": "0"},
    )
    assert response.status_code == 400


def test_a_change_form_posted_with_a_non_numeric_autocomplete_id_is_a_400_or_form_error(staff_client):
    response = staff_client.post(
        reverse("admin:subjects_interaction_add"),
        {"contact": "abc", "kind": "meeting", "summary": "x", "occurred_at_0": "2026-01-01",
         "occurred_at_1": "10:00"},
    )  # fmt: skip
    assert response.status_code in (200, 400)


def test_a_nul_in_a_notice_version_is_a_400_not_a_query(client):
    assert client.get("/personvern/versjon/%00/").status_code == 400


def test_a_nul_in_a_public_query_string_is_a_400(client):
    assert client.get("/portal/status/?ref=a%00").status_code == 400


def test_an_interaction_without_a_contact_is_a_form_error(staff_client):
    response = staff_client.post(
        reverse("admin:subjects_interaction_add"),
        {"kind": "meeting", "summary": "x", "occurred_at_0": "2026-01-01", "occurred_at_1": "10:00"},
    )
    assert response.status_code == 200
    assert "contact" in response.context["adminform"].form.errors
    assert not Interaction.objects.exists()


def _admin_form(model, staff_user, data):
    request = RequestFactory().get("/")
    request.user = staff_user
    model_admin = admin.site._registry[model]
    form_class = model_admin.get_form(request)
    return form_class(data=data)


@pytest.mark.parametrize("junk", ["NaN", "1e309", "Infinity", '{"a": 1}', "[1, 2]", '["a", ""]', "[", "3"])
def test_junk_in_a_purposes_data_categories_is_a_form_error(staff_user, junk):
    form = _admin_form(Purpose, staff_user, {"data_categories": junk})
    form.is_valid()
    assert "data_categories" in form.errors


@pytest.mark.parametrize("empty", ["", "  ", "null", "[]"])
def test_empty_name_lists_mean_the_empty_list(staff_user, empty):
    for model, name in ((Purpose, "data_categories"), (RetentionPolicy, "keep_for_statistics")):
        form = _admin_form(model, staff_user, {name: empty})
        form.is_valid()
        assert name not in form.errors
        assert form.cleaned_data[name] == []


def test_a_name_list_is_taken(staff_user):
    form = _admin_form(RetentionPolicy, staff_user, {"keep_for_statistics": '["organisation"]'})
    form.is_valid()
    assert form.cleaned_data["keep_for_statistics"] == ["organisation"]


@pytest.mark.parametrize("address", ["kari@\u05d0firma.no", "k\u00e5ri@firma.no", "kari@firma..no"])
def test_subscribing_with_an_address_we_cannot_mail_is_a_form_error_and_writes_nothing(client, address):
    response = client.post(
        reverse("consent:subscribe"), {"name": "Kari", "email": address, "topics": ["marketing_products"]}
    )
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not Contact.objects.exists() and not ConsentEvent.objects.exists()
    assert mail.outbox == []


def test_the_portal_refuses_an_address_we_cannot_mail(client):
    from requests_dsar.models import DataSubjectRequest

    response = client.post(
        reverse("requests_dsar:request_new"), {"type": "access", "email": "kari@\u05d0firma.no"}
    )
    assert response.status_code == 400  # the form again, with its error
    assert response.context["form"].errors
    assert not DataSubjectRequest.objects.exists()
    assert mail.outbox == []


def test_a_domain_in_unicode_that_encodes_is_still_taken():
    from core.validators import clean_email

    assert clean_email("Kari@Blåbær.no") == "kari@blåbær.no"


@pytest.mark.parametrize(
    "values",
    [{"minute": "99"}, {"hour": "x"}, {"day_of_month": "0"}, {"month_of_year": "13"}, {"day_of_week": "%00"},
     {"minute": "*/0"}, {"minute": "1-"}, {"hour": "25-3"}],
)  # fmt: skip
def test_bad_crontab_values_are_form_errors(staff_client, values):
    data = {"minute": "0", "hour": "4", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*",
            "timezone": "Europe/Oslo", **values}  # fmt: skip
    response = staff_client.post(reverse("admin:django_celery_beat_crontabschedule_add"), data)
    assert response.status_code in (200, 400)
