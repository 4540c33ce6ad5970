"""The roles (staff/roles.py): each one reaches what it says and is refused everywhere else.

The expectations are built from the role table in code; the responses come from
the live admin, so a door that forgets its permission fails here for every role.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.test import RequestFactory as HttpRequestFactory
from django.urls import reverse

from core.permissions import (
    DOWNLOAD_ACCESS_ANSWER,
    DOWNLOAD_APPLICATION_DOCUMENT,
    EXPORT_CONTACTS,
    PUBLISH_NOTICE,
    RUN_RETENTION,
)
from requests_dsar.models import ProcessingRestriction
from staff.roles import (
    ROLES,
    ROLES_BY_CODE,
    Level,
    Role,
    area_of,
    role_level,
    role_matrix_markdown,
    roles_sync,
)
from subjects.models import ApplicationDocument, Contact
from tests.requests_dsar.factories import RequestFactory
from tests.subjects.factories import ContactFactory, JobApplicationFactory

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"
ROLE_CODES = [role.code for role in ROLES]
# What a custom action permission ("has_<name>_permission") stands for, in the roles' terms.
CUSTOM_ACTION_PERMISSIONS = {"publish": PUBLISH_NOTICE, "export": EXPORT_CONTACTS, "run": RUN_RETENTION}


def _superuser_request():
    request = HttpRequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    return request


ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)
PAGES = [model._meta.label_lower for model, _ in ADMINS]
ADDABLE = [model._meta.label_lower for model, a in ADMINS if a.has_add_permission(_superuser_request())]
ACTIONS = sorted(
    (model._meta.label_lower, name) for model, a in ADMINS for name in a.get_actions(_superuser_request())
)


def _model_level(role: Role, label: str) -> Level:
    return role_level(role, area_of(label))


def _may_run(role: Role, label: str, action_name: str) -> bool:
    model_admin = admin.site._registry[apps.get_model(label)]
    action = getattr(model_admin, action_name, None) or admin.site.get_action(action_name)
    for permission in action.allowed_permissions:
        if permission in ("view", "add", "change", "delete"):
            if permission in _model_level(role, label).actions:
                return True
        elif permission in CUSTOM_ACTION_PERMISSIONS:
            if CUSTOM_ACTION_PERMISSIONS[permission] in role.effects:
                return True
        elif role.everything is Level.FULL:
            return True  # an effect the table does not name yet: the privacy officer's alone
    return False


@pytest.fixture
def as_role(client, django_user_model):
    """Log the client in as a staff member holding exactly one role."""
    if Group.objects.filter(name__in=[role.name for role in ROLES]).count() < len(ROLES):
        roles_sync()  # a transactional test before this one emptied the tables

    def login(code: str) -> User:
        role = ROLES_BY_CODE[code]
        user = django_user_model.objects.create_user(f"{code}-user", f"{code}@example.no", is_staff=True)
        user.groups.set([Group.objects.get(name=role.name)])
        client.force_login(user)
        return user

    return login


# -- the table -------------------------------------------------------------------------------------


def test_the_readme_table_is_the_one_in_the_code():
    text = README.read_text()
    found = re.search(r"<!-- roles:start -->\n(.*?)\n<!-- roles:end -->", text, re.S)
    assert found, "README.md lost its role table markers"
    assert found.group(1).strip() == role_matrix_markdown(), (
        "README.md's role table differs from staff/roles.py; paste role_matrix_markdown()"
    )


def test_every_role_is_a_group_holding_exactly_its_permissions():
    from staff.roles import role_permissions

    roles_sync()
    models = list(apps.get_models())
    for role in ROLES:
        group = Group.objects.get(name=role.name)
        rows = group.permissions.values_list("content_type__app_label", "codename")
        held = {f"{app_label}.{codename}" for app_label, codename in rows}
        assert held == role_permissions(role, models), role.code


def test_a_permission_added_by_hand_is_taken_back_on_the_next_sync():
    from django.contrib.auth.models import Permission

    roles_sync()
    auditor = Group.objects.get(name=ROLES_BY_CODE["auditor"].name)
    auditor.permissions.add(Permission.objects.get(codename="delete_contact"))
    roles_sync()
    assert not auditor.permissions.filter(codename="delete_contact").exists()


def test_the_migration_created_the_groups():
    # The test database was built by migrate: the groups are there before any sync in a test.
    assert set(Group.objects.values_list("name", flat=True)) >= {role.name for role in ROLES}


def test_the_auditor_and_the_privacy_officer_reach_every_area():
    assert ROLES_BY_CODE["auditor"].everything is Level.READ and not ROLES_BY_CODE["auditor"].effects
    assert ROLES_BY_CODE["privacy_officer"].everything is Level.FULL


# -- every admin page, per role --------------------------------------------------------------------


@pytest.mark.parametrize("label", PAGES)
@pytest.mark.parametrize("code", ROLE_CODES)
def test_a_list_opens_for_who_may_read_it_and_is_refused_to_the_others(client, as_role, code, label):
    as_role(code)
    app_label, model_name = label.split(".")
    response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    expected = 200 if "view" in _model_level(ROLES_BY_CODE[code], label).actions else 403
    assert response.status_code == expected


@pytest.mark.parametrize("label", ADDABLE)
@pytest.mark.parametrize("code", ROLE_CODES)
def test_an_add_form_opens_for_who_may_add(client, as_role, code, label):
    as_role(code)
    app_label, model_name = label.split(".")
    response = client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    expected = 200 if "add" in _model_level(ROLES_BY_CODE[code], label).actions else 403
    assert response.status_code == expected


@pytest.mark.parametrize(("label", "action"), ACTIONS)
@pytest.mark.parametrize("code", ROLE_CODES)
def test_an_action_is_offered_to_who_may_run_it_only(client, as_role, code, label, action):
    user = as_role(code)
    request = HttpRequestFactory().get("/admin/")
    request.user = User.objects.get(pk=user.pk)
    offered = action in admin.site._registry[apps.get_model(label)].get_actions(request)
    assert offered == _may_run(ROLES_BY_CODE[code], label, action)


# -- the contact page, read-only for the request handler -------------------------------------------


@pytest.mark.parametrize(
    ("code", "opens", "saves"),
    [
        ("privacy_officer", 200, True),
        ("sales_support", 200, True),
        ("request_handler", 200, False),
        ("auditor", 200, False),
        ("recruiter", 403, False),
    ],
)
def test_the_contact_page(client, as_role, code, opens, saves):
    contact = ContactFactory(job_title="Innkjøper")
    as_role(code)
    url = reverse("admin:subjects_contact_change", args=[contact.pk])
    assert client.get(url).status_code == opens
    data = {
        "name": contact.name, "email": contact.email, "email_kind": contact.email_kind,
        "phone": contact.phone, "job_title": "Daglig leder", "organisation": contact.organisation_id,
        "language": contact.language, "source_type": contact.source_type, "source_name": "",
        "collected_at_0": "2025-01-02", "collected_at_1": "10:00:00",
    }  # fmt: skip
    response = client.post(url, data)
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == (302 if saves else 403), errors
    assert (Contact.objects.get(pk=contact.pk).job_title == "Daglig leder") is saves


# -- downloads, exports and reports ----------------------------------------------------------------


def _document() -> ApplicationDocument:
    document = ApplicationDocument(application=JobApplicationFactory(), title="CV")
    document.file.save("cv.pdf", ContentFile(b"%PDF-1.4 cv"), save=True)
    return document


def _answered_request():
    dsar = RequestFactory()
    dsar.answer_file.save(f"{dsar.reference}.zip", ContentFile(b"PK answer"), save=True)
    return dsar


@pytest.mark.parametrize("code", ROLE_CODES)
def test_an_application_document_downloads_for_who_may_only(client, as_role, code):
    from core.models import AuditEvent

    document = _document()
    as_role(code)
    response = client.get(reverse("subjects:application_document", args=[document.pk]))
    allowed = DOWNLOAD_APPLICATION_DOCUMENT in ROLES_BY_CODE[code].effects
    assert response.status_code == (200 if allowed else 403)
    assert AuditEvent.objects.filter(action="application_document.view").exists() is allowed


@pytest.mark.parametrize("code", ROLE_CODES)
def test_an_access_answer_downloads_for_who_may_only(client, as_role, code):
    from core.models import AuditEvent

    dsar = _answered_request()
    as_role(code)
    response = client.get(reverse("staff:access_answer_download", args=[dsar.pk]))
    allowed = DOWNLOAD_ACCESS_ANSWER in ROLES_BY_CODE[code].effects
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        assert b"".join(response.streaming_content) == b"PK answer"
    assert AuditEvent.objects.filter(action="dsar.staff_download", target_id=str(dsar.pk)).exists() is allowed


def test_downloads_send_a_stranger_to_the_login(client, stranger):
    client.force_login(stranger)
    for url in (
        reverse("staff:access_answer_download", args=[_answered_request().pk]),
        reverse("subjects:application_document", args=[_document().pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("code", ROLE_CODES)
def test_contacts_export_for_who_may_only(client, as_role, code):
    contact = ContactFactory()
    as_role(code)
    response = client.post(
        reverse("admin:subjects_contact_changelist"),
        {"action": "export_csv", "_selected_action": [str(contact.pk)], "index": "0"},
    )
    exported = response.get("Content-Type", "").startswith("text/csv")
    assert exported is (EXPORT_CONTACTS in ROLES_BY_CODE[code].effects)


REPORTS = [
    ("admin:consent_report", "consent.consentevent", {}),
    ("admin:consent_report", "consent.consentevent", {"format": "csv"}),
    ("admin:retention_retentionpolicy_preview", "retention.retentionpolicy", {}),
]


def _custom_views_without_arguments() -> list[tuple[str, str]]:
    """(URL name, model label) of every custom admin view a role reaches by a plain GET."""
    from django.urls import URLPattern

    standard = ("_changelist", "_add", "_history", "_delete", "_change", "_autocomplete")
    found = []
    for model, model_admin in ADMINS:
        for pattern in model_admin.get_urls():
            if (
                isinstance(pattern, URLPattern)
                and pattern.name
                and not pattern.name.endswith(standard)
                and not pattern.pattern.converters
            ):
                found.append((f"admin:{pattern.name}", model._meta.label_lower))
    return sorted(set(found))


CUSTOM_VIEWS = _custom_views_without_arguments()


def test_the_custom_views_found_include_the_reports():
    names = {name for name, _ in CUSTOM_VIEWS}
    assert {"admin:consent_report", "admin:retention_retentionpolicy_preview"} <= names


@pytest.mark.parametrize(("name", "label"), CUSTOM_VIEWS)
@pytest.mark.parametrize("code", [c for c in ROLE_CODES if c != "privacy_officer"])
def test_a_custom_admin_view_opens_for_who_may_read_its_model(client, as_role, code, name, label):
    """Every argument-free custom admin view (reports, previews, registers) found in the code:
    where the privacy officer gets the page, a role gets it too if it reads the view's model,
    and 403 otherwise (a view checking only ``is_staff`` fails here)."""
    as_role("privacy_officer")
    if client.get(reverse(name)).status_code != 200:
        pytest.skip(f"{name} needs more than a plain GET")
    client.logout()
    as_role(code)
    may_read = "view" in _model_level(ROLES_BY_CODE[code], label).actions
    assert client.get(reverse(name)).status_code == (200 if may_read else 403)


@pytest.mark.parametrize(("name", "label", "query"), REPORTS)
@pytest.mark.parametrize("code", ROLE_CODES)
def test_a_report_opens_for_who_may_read_its_area(client, as_role, code, name, label, query):
    as_role(code)
    response = client.get(reverse(name), query)
    expected = 200 if "view" in _model_level(ROLES_BY_CODE[code], label).actions else 403
    assert response.status_code == expected


# -- the request workflow's own views --------------------------------------------------------------


@pytest.mark.parametrize("code", ROLE_CODES)
def test_the_request_workflow_views_open_for_who_may_change_requests(client, as_role, code):
    dsar = RequestFactory()
    restriction = ProcessingRestriction.objects.create(email=dsar.email, kind="restriction", request=dsar)
    as_role(code)
    may = "change" in _model_level(ROLES_BY_CODE[code], "requests_dsar.datasubjectrequest").actions
    expected = 200 if may else 403
    act = reverse("admin:requests_dsar_datasubjectrequest_act", args=[dsar.pk, "verify"])
    lift = reverse("admin:requests_dsar_processingrestriction_lift", args=[restriction.pk])
    assert (client.get(act).status_code, client.get(lift).status_code) == (expected, expected)
    client.post(lift, {"reason": "Tvisten er avgjort"})
    assert ProcessingRestriction.objects.get(pk=restriction.pk).lifted_at is not None or not may
    assert ProcessingRestriction.objects.get(pk=restriction.pk).lifted_at is None or may


def test_a_users_role_names_are_read_for_the_audit_trail(as_role, django_user_model):
    from staff.selectors import staff_role_names

    user = as_role("recruiter")
    user.groups.add(Group.objects.create(name="Fotballaget"))  # a group that is not a role
    assert staff_role_names(user=user) == ["Recruiter"]


@pytest.mark.parametrize("code", ROLE_CODES)
def test_the_request_page_offers_only_what_the_role_may_do(client, as_role, code):
    dsar = _answered_request()
    as_role(code)
    response = client.get(reverse("admin:requests_dsar_datasubjectrequest_change", args=[dsar.pk]))
    role = ROLES_BY_CODE[code]
    if "view" not in _model_level(role, "requests_dsar.datasubjectrequest").actions:
        assert response.status_code == 403
        return
    body = response.content.decode()
    download = reverse("staff:access_answer_download", args=[dsar.pk])
    act = reverse("admin:requests_dsar_datasubjectrequest_act", args=[dsar.pk, "verify"])
    assert (download in body) is (DOWNLOAD_ACCESS_ANSWER in role.effects)
    assert (act in body) is ("change" in _model_level(role, "requests_dsar.datasubjectrequest").actions)
