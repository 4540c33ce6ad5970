"""The staff roles: least privilege, kept in code, turned into Django groups.

This module is the one source of truth. ``roles_sync`` makes each group hold
exactly the permissions below (a data migration runs it, and so does every
``migrate``, so a model added later gets its place without a new migration);
the README's role table is checked against ``role_matrix`` by a test.

Art. 5(1)(f) and Art. 32: personal data is reachable only by those whose work
needs it; an auditor reads everything and takes no one's data home; user
management stays with the privacy officer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.permissions import (
    DOWNLOAD_ACCESS_ANSWER,
    DOWNLOAD_APPLICATION_DOCUMENT,
    EXPORT_CONTACTS,
    PUBLISH_NOTICE,
    RUN_RETENTION,
)


class Level(StrEnum):
    """How far a role reaches into an area's models."""

    NONE = "-"
    READ = "read"  # view
    RECORD = "record"  # view, add: records what happened, changes nothing
    EDIT = "edit"  # view, add, change
    FULL = "full"  # view, add, change, delete

    @property
    def actions(self) -> tuple[str, ...]:
        return {
            Level.NONE: (),
            Level.READ: ("view",),
            Level.RECORD: ("view", "add"),
            Level.EDIT: ("view", "add", "change"),
            Level.FULL: ("view", "add", "change", "delete"),
        }[self]


@dataclass(frozen=True)
class Area:
    code: str
    title: str
    models: tuple[str, ...]  # "app_label.model_name"


# Every model the roles speak of. A model in no area is in OTHER: the privacy
# officer has it all, the auditor reads it, nobody else sees it.
AREAS: tuple[Area, ...] = (
    Area(
        "contacts",
        "Contacts, organisations, interactions",
        ("subjects.contact", "subjects.organisation", "subjects.interaction"),
    ),
    Area("web_visits", "Web visits", ("subjects.webvisit",)),
    Area(
        "applications",
        "Job applications and documents",
        ("subjects.jobapplication", "subjects.applicationdocument"),
    ),
    Area(
        "consent_ledger",
        "Consent ledger, notifications, suppression list",
        (
            "consent.consentevent",
            "consent.consentstate",
            "consent.consentwording",
            "consent.consentconfirmation",
            "consent.customeraddressrecord",
            "consent.marketingclearance",
            "consent.noticenotification",
            "consent.informationnotice",
            "consent.suppressionentry",
        ),
    ),
    Area(
        "purposes",
        "Purposes, assessments, privacy notices",
        ("consent.purpose", "consent.legitimateinterestassessment", "consent.privacynotice"),
    ),
    Area(
        "requests",
        "Data-subject requests and restrictions",
        (
            "requests_dsar.datasubjectrequest",
            "requests_dsar.requestevent",
            "requests_dsar.requestemail",
            "requests_dsar.recipientnotice",
            "requests_dsar.processingrestriction",
        ),
    ),
    Area(
        "retention",
        "Retention policies, legal holds, sweep runs",
        (
            "retention.retentionpolicy",
            "retention.legalhold",
            "retention.sweeprun",
            "retention.retentionstatistic",
        ),
    ),
    Area("erasure_journal", "Erasure journal", ("rights.erasurejournalentry",)),
    Area("audit", "Audit trail", ("core.auditevent",)),
    Area("staff", "Staff users, roles, two-factor devices, lockouts", ("auth.user", "auth.group")),
    Area(
        "schedules",
        "Periodic task schedules",
        (
            "django_celery_beat.periodictask",
            "django_celery_beat.crontabschedule",
            "django_celery_beat.intervalschedule",
            "django_celery_beat.clockedschedule",
            "django_celery_beat.solarschedule",
        ),
    ),
)
OTHER = Area("other", "Everything else", ())

# Effects that are not a model's add/change/delete/view (core.permissions).
EFFECTS: dict[str, str] = {
    PUBLISH_NOTICE: "Publish a privacy notice",
    EXPORT_CONTACTS: "Export contacts",
    RUN_RETENTION: "Run a retention sweep now",
    DOWNLOAD_ACCESS_ANSWER: "Download an access answer",
    DOWNLOAD_APPLICATION_DOCUMENT: "Download an application document",
}

# Apps whose models staff reach through the staff area, whatever their names
# (two-factor devices, lockout records), added by the login half of this work.
STAFF_APPS: tuple[str, ...] = ("otp_totp", "otp_static", "axes")


@dataclass(frozen=True)
class Role:
    code: str
    name: str  # the group's name in the admin
    description: str
    areas: dict[str, Level] = field(default_factory=dict)
    effects: tuple[str, ...] = ()
    everything: Level = Level.NONE  # the level for every area not named in ``areas``


ROLES: tuple[Role, ...] = (
    Role(
        "privacy_officer",
        "Privacy officer",
        "Everything: policies, holds, notices, erasure, exports, staff and their two-factor devices.",
        everything=Level.FULL,
        effects=tuple(EFFECTS),
    ),
    Role(
        "request_handler",
        "Request handler",
        "The request queue and its actions, the contact page read-only, access answers.",
        areas={"requests": Level.EDIT, "contacts": Level.READ},
        effects=(DOWNLOAD_ACCESS_ANSWER,),
    ),
    Role(
        "sales_support",
        "Sales and support",
        "Contacts, organisations and interactions; consent events recorded by staff.",
        areas={"contacts": Level.EDIT, "consent_ledger": Level.RECORD, "purposes": Level.READ},
    ),
    Role(
        "recruiter",
        "Recruiter",
        "Job applications and their documents only.",
        areas={"applications": Level.EDIT},
        effects=(DOWNLOAD_APPLICATION_DOCUMENT,),
    ),
    Role(
        "auditor",
        "Auditor",
        "Read-only everywhere, the audit trail included; no downloads of a person's data.",
        everything=Level.READ,
    ),
)
ROLES_BY_CODE: dict[str, Role] = {role.code: role for role in ROLES}


def area_of(model_label: str) -> Area:
    """The area a model ("app_label.model_name") belongs to."""
    for area in AREAS:
        if model_label in area.models:
            return area
    if model_label.split(".")[0] in STAFF_APPS:
        return next(a for a in AREAS if a.code == "staff")
    return OTHER


def role_level(role: Role, area: Area) -> Level:
    return role.areas.get(area.code, role.everything)


def role_matrix() -> dict[str, dict[str, str]]:
    """area or effect title -> role name -> level ("-", "read", ..., or "yes"/"-" for an effect)."""
    matrix: dict[str, dict[str, str]] = {}
    for area in (*AREAS, OTHER):
        matrix[area.title] = {role.name: role_level(role, area).value for role in ROLES}
    for permission, title in EFFECTS.items():
        matrix[title] = {role.name: "yes" if permission in role.effects else "-" for role in ROLES}
    return matrix


def role_permissions(role: Role, models: Iterable[Any]) -> set[str]:
    """ "app_label.codename" of every permission ``role`` holds among ``models`` (model classes)."""
    granted: set[str] = set(role.effects)
    for model in models:
        opts = model._meta
        if opts.app_label == "staff":
            continue  # the effects' holder: granted by name above
        level = role_level(role, area_of(opts.label_lower))
        for action in level.actions:
            if action in opts.default_permissions:
                granted.add(f"{opts.app_label}.{action}_{opts.model_name}")
        if level is Level.FULL:
            granted |= {f"{opts.app_label}.{codename}" for codename, _ in opts.permissions}
    return granted


def roles_sync(apps: Any = None, using: str | None = None) -> None:
    """Make each role's group hold exactly its permissions (idempotent; run after every migrate).

    ``apps`` is the migration's app registry when called from a data migration. A
    permission granted to a role's group by hand in the admin is taken away again
    here: a role changes in this module, reviewed like any other code.
    """
    from django.apps import apps as global_apps
    from django.db import DEFAULT_DB_ALIAS

    registry = apps or global_apps
    database = using or DEFAULT_DB_ALIAS
    Group = registry.get_model("auth", "Group")
    Permission = registry.get_model("auth", "Permission")
    models = list(global_apps.get_models())
    rows = Permission.objects.using(database).values_list("pk", "content_type__app_label", "codename")
    by_name = {f"{app_label}.{codename}": pk for pk, app_label, codename in rows}
    for role in ROLES:
        group, _ = Group.objects.using(database).get_or_create(name=role.name)
        wanted = {by_name[name] for name in role_permissions(role, models) if name in by_name}
        group.permissions.set(wanted)


def role_matrix_markdown() -> str:
    """The role table as the README shows it (tests/staff/test_roles.py compares the two)."""
    matrix = role_matrix()
    names = [role.name for role in ROLES]
    lines = [
        "| area or effect | " + " | ".join(names) + " |",
        "| --- |" + " --- |" * len(names),
    ]
    for title, levels in matrix.items():
        lines.append(f"| {title} | " + " | ".join(levels[name] for name in names) + " |")
    return "\n".join(lines)
