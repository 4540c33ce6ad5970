"""System check: every recipient code a declaration names is in the register of recipients (Art. 30(1)(d))."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DatabaseError

from core.registry import registry


def declared_recipient_codes() -> dict[str, list[str]]:
    """Recipient code -> labels of the models whose declarations name it."""
    codes: dict[str, list[str]] = {}
    for declaration in registry.personal():
        for code in declaration.recipients:
            codes.setdefault(code, []).append(declaration.label)
    return codes


# A database check (it reads the register): ``manage.py check --database default`` and
# ``migrate`` run it; the suite runs it in tests/accountability/test_recipients.py.
@checks.register(checks.Tags.database)
def check_recipients_registered(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .models import Recipient

    if not kwargs.get("databases"):
        return []  # like Django's own database checks: only when asked to touch a database
    declared = declared_recipient_codes()
    try:
        known = set(Recipient.objects.filter(code__in=list(declared)).values_list("code", flat=True))
    except DatabaseError:
        # Before the first migrate there is no register to compare with; migrate seeds it.
        return []
    errors = [
        checks.Error(
            f"The recipient code {code!r} (declared by {', '.join(sorted(models))}) is not in the "
            "register of recipients.",
            hint="Add it in the admin under Accountability > Recipients, or correct the declaration.",
            id="accountability.E001",
        )
        for code, models in sorted(declared.items())
        if code not in known
    ]
    return errors + _configured_codes_registered()


# Models of other apps whose rows name a recipient code (the integration API's clients and webhooks).
CONFIGURED_RECIPIENT_FIELDS = (("api", "ApiClient", "recipient"), ("api", "WebhookSubscription", "recipient"))


def _configured_codes_registered() -> list[checks.CheckMessage]:
    from django.apps import apps

    from .models import Recipient

    errors = []
    for app_label, model_name, field_name in CONFIGURED_RECIPIENT_FIELDS:
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        try:
            used = set(model._default_manager.exclude(**{field_name: ""}).values_list(field_name, flat=True))
            known = set(Recipient.objects.filter(code__in=sorted(used)).values_list("code", flat=True))
        except DatabaseError:
            return []
        errors += [
            checks.Error(
                f"{model._meta.label} rows name the recipient code {code!r}, which is not in the register "
                "of recipients: disclosures to it cannot be logged.",
                hint="Add it under Accountability > Recipients, or correct the code on those rows.",
                id="accountability.E002",
            )
            for code in sorted(used - known)
        ]
    return errors
