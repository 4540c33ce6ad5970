"""Staff doors to the accountability registers; every write goes through the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ServiceAdmin
from core.audit import Actor
from core.registry import registry

from . import selectors, services
from .models import Disclosure, Recipient


class RecipientForm(forms.ModelForm):
    class Meta:
        model = Recipient
        fields = (
            "code", "name", "kind", "serves", "org_number", "is_active", "country", "transfer_mechanism",
            "transfer_mechanism_date", "dpa_signed_on", "dpa_document", "dpa_next_review", "categories",
            "purposes", "contact_name", "contact_email", "contact_phone",
        )  # fmt: skip

    def clean_categories(self) -> list[str]:
        value = self.cleaned_data.get("categories") or []
        known = set(registry.categories())
        unknown = [c for c in value if c not in known]
        if unknown:
            message = _("Unknown data category: %(codes)s.") % {"codes": ", ".join(unknown)}
            raise forms.ValidationError(message)
        return value


@admin.register(Recipient)
class RecipientAdmin(ServiceAdmin):
    form = RecipientForm
    create_service = services.recipient_create
    update_service = services.recipient_update
    instance_kwarg = "recipient"
    audit_views = False  # a recipient is an organisation; its contact person is in the audit of changes
    list_display = (
        "code", "name", "kind", "country", "transfer_mechanism", "dpa_signed_on", "dpa_next_review",
    )  # fmt: skip
    list_filter = ("kind", "is_active", "transfer_mechanism")
    search_fields = ("code", "name", "org_number")
    readonly_fields = ("reaches",)
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "serves", "org_number", "is_active")}),
        (_("Transfer outside the EEA (Chapter V)"),
         {"fields": ("country", "transfer_mechanism", "transfer_mechanism_date")}),
        (_("Data processing agreement (Art. 28)"),
         {"fields": ("dpa_signed_on", "dpa_document", "dpa_next_review")}),
        (_("What is shared"), {"fields": ("categories", "purposes", "reaches")}),
        (_("Contact"), {"fields": ("contact_name", "contact_email", "contact_phone")}),
    )  # fmt: skip

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The register is history (Art. 5(2)): a recipient is made inactive, not deleted.
        return False

    @admin.display(description=_("models and categories that reach it (from the registry)"))
    def reaches(self, obj: Recipient) -> str:
        rows = selectors.recipient_reach(code=obj.code) if obj.pk else []
        if not rows:
            return "\N{EN DASH}"
        return format_html_join(
            "", "<div>{} ({}): {}</div>", ((r.verbose_name, r.label, r.category) for r in rows)
        )


class DisclosureForm(forms.ModelForm):
    class Meta:
        model = Disclosure
        fields = ("recipient", "contact", "categories", "purpose", "reason", "disclosed_at")


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    """The disclosure log: staff add a manual disclosure; nothing is changed or deleted afterwards."""

    form = DisclosureForm
    list_display = ("disclosed_at", "recipient", "contact", "channel", "purpose")
    list_filter = ("channel", "recipient")
    list_select_related = ("recipient", "contact")
    raw_id_fields = ("contact",)
    date_hierarchy = "disclosed_at"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Disclosure, form: Any, change: bool) -> None:
        data = form.cleaned_data
        (saved,) = services.disclosure_record(
            recipient=data["recipient"],
            contact_ids=[data["contact"].pk] if data.get("contact") else [],
            categories=data.get("categories") or [],
            purpose=data.get("purpose", ""),
            channel=Disclosure.Channel.MANUAL,
            reason=data.get("reason", ""),
            actor=Actor.from_request(request),
            disclosed_at=data.get("disclosed_at"),
        )
        obj.pk = saved.pk
        obj._state.adding = False
