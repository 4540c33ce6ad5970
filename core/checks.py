"""System checks: ``manage.py check`` (and so CI) fails on undeclared personal data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks

from .registry import registry, undeclared_fields


def project_models() -> list[Any]:
    """Models of the apps in this repository, not of Django or third parties."""
    base = Path(settings.BASE_DIR).resolve()
    found = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if base in path.parents and ".venv" not in path.parts:
            found.extend(m for m in config.get_models() if not m._meta.proxy)
    return found


@checks.register(checks.Tags.models)
def check_personal_data_declared(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for model in project_models():
        missing = undeclared_fields(model)
        if not missing:
            continue
        where = "registered" if registry.get(model) else "not registered"
        errors.append(
            checks.Error(
                f"{model._meta.label} ({where} in personal_data.py) has fields that are neither "
                f"declared personal data nor marked as not personal: {', '.join(missing)}.",
                hint=(
                    f"Declare them in {model._meta.app_label}/personal_data.py, so the access "
                    "report, erasure and retention know about them."
                ),
                obj=model,
                id="personvern.E001",
            )
        )
    for declaration in registry.personal():
        names = {f.name for f in declaration.model._meta.get_fields()}
        unknown = [n for n in declaration.personal_fields if n not in names]
        if unknown:
            errors.append(
                checks.Error(
                    f"{declaration.label} declares unknown personal fields: {', '.join(unknown)}.",
                    obj=declaration.model,
                    id="personvern.E002",
                )
            )
        if declaration.erasure == "anonymise":
            missing_rules = set(declaration.personal_fields) - set(declaration.anonymise)
            if missing_rules:
                errors.append(
                    checks.Error(
                        f"{declaration.label} is anonymised on erasure but says nothing of how "
                        f"to anonymise: {', '.join(sorted(missing_rules))}.",
                        obj=declaration.model,
                        id="personvern.E003",
                    )
                )
    return errors


# --- removal-engine (issue 8): declarations name only purposes of the catalogue ---------------


@checks.register(checks.Tags.database)
def check_declared_purposes_exist(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Every purpose code a declaration names is in the purpose catalogue (consent.Purpose).

    The access report (Art. 15(1)(a)) and the records of processing (Art. 30(1)(b))
    state purposes from the catalogue; a code that is not there is a purpose nobody
    documented. A database check (``check --database default``, and ``migrate``):
    the catalogue is data. A warning, so that it never stops a migration.
    """
    if not databases:
        return []
    from django.apps import apps as django_apps
    from django.db import DatabaseError

    try:
        purpose = django_apps.get_model("consent", "Purpose")
        known = set(purpose._default_manager.values_list("code", flat=True))
    except (LookupError, DatabaseError):
        return []  # no catalogue yet (a fresh database before its migrations)
    warnings: list[checks.CheckMessage] = []
    for declaration in registry.personal():
        unknown = sorted(set(declaration.purposes) - known)
        if unknown:
            warnings.append(
                checks.Warning(
                    f"{declaration.label} names purposes that are not in the purpose catalogue: "
                    f"{', '.join(unknown)}.",
                    hint="Add them to the catalogue (consent.Purpose) or name a purpose that is there.",
                    obj=declaration.model,
                    id="personvern.W010",
                )
            )
    return warnings
