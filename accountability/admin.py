"""Staff doors to the accountability registers; every write goes through the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin_mixins import ServiceAdmin
from core.audit import Actor
from core.errors import ApplicationError
from core.mail import render_email
from core.registry import registry
from subjects.models import Organisation

from . import selectors, services
from .models import Breach, BreachCommunication, BreachRevision, Disclosure, Recipient


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


# --- Breaches (Art. 33, 34) ---------------------------------------------------------------------


class BreachForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = services.BREACH_FIELDS

    def _post_clean(self) -> None:
        super()._post_clean()
        # The service's rules, shown as form errors before the service would refuse.
        try:
            services.breach_validate(self.instance)
        except ValidationError as error:
            self._update_errors(error)


class BreachRevisionInline(admin.TabularInline):
    model = BreachRevision
    fields = ("number", "saved_at", "actor_kind", "actor_id", "changed_fields")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Breach)
class BreachAdmin(ServiceAdmin):
    form = BreachForm
    create_service = services.breach_create
    update_service = services.breach_update
    instance_kwarg = "breach"
    audit_views = False  # an incident record names no one
    list_display = ("title", "discovered_at", "clock", "risk", "decision", "notified_at")
    list_filter = ("decision", "risk")
    readonly_fields = ("clock",)
    inlines = (BreachRevisionInline,)
    fieldsets = (
        (None,
         {"fields": ("title", "clock", "discovered_at", "discovered_by", "occurred_at", "description")}),
        (_("Scope"), {"fields": ("categories", "people_categories", "approx_people", "approx_records")}),
        (_("Consequences and measures"), {"fields": ("consequences", "measures_taken", "measures_proposed")}),
        (_("Risk and decision (Art. 33(1), 34(1))"),
         {"fields": ("risk", "risk_assessment", "decision", "decision_reason", "decided_at")}),
        (_("Notification to Datatilsynet"),
         {"fields": ("notified_at", "authority_reference", "delay_reason", "closed_at")}),
    )  # fmt: skip

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Art. 33(5): every breach stays documented.
        return False

    @admin.display(description=_("72-hour clock"))
    def clock(self, obj: Breach) -> str:
        return clock_text(obj) if obj.pk else "\N{EN DASH}"


def clock_text(breach: Breach, now: datetime | None = None) -> str:
    """The state of the 72-hour clock in words (Art. 33(1))."""
    if breach.notified_at is not None:
        return _("Notified %(when)s") % {
            "when": date_format(timezone.localtime(breach.notified_at), "SHORT_DATETIME_FORMAT")
        }
    if breach.decision == Breach.Decision.NOT_NOTIFY:
        return _("Decided not to notify")
    left = breach.hours_left(now)
    if left < 0:
        return _("Overdue by %(hours)d hours") % {"hours": int(-left)}
    return _("%(hours)d hours left (deadline %(deadline)s)") % {
        "hours": int(left),
        "deadline": date_format(timezone.localtime(breach.deadline), "SHORT_DATETIME_FORMAT"),
    }


class BreachCommunicationForm(forms.ModelForm):
    organisations = forms.ModelMultipleChoiceField(
        label=_("people of these organisations"),
        queryset=Organisation.objects.order_by("name"),
        required=False,
    )
    choose_categories = forms.MultipleChoiceField(
        label=_("people whose data of these categories was concerned"), required=False, choices=()
    )
    addresses = forms.CharField(
        label=_("these addresses (one a line)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    class Meta:
        model = BreachCommunication
        fields = ("breach", "subject_nb", "body_nb", "subject_en", "body_en")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["choose_categories"].choices = [(c, c) for c in registry.categories() if c]

    def clean_addresses(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data.get("addresses", "").splitlines() if line.strip()]
        for line in lines:
            validate_email(line)
        return lines

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        people = services.breach_people(
            organisation_ids=[o.pk for o in data.get("organisations") or []],
            categories=data.get("choose_categories") or [],
            addresses=data.get("addresses") or [],
        )
        if not people.exists():
            raise forms.ValidationError(
                _("Nobody matches this choice: choose organisations, categories or addresses.")
            )
        return data


@admin.register(BreachCommunication)
class BreachCommunicationAdmin(admin.ModelAdmin):
    """Choose the people, write the message in both languages, review it, then send (Art. 34)."""

    form = BreachCommunicationForm
    list_display = ("breach", "subject_en", "status", "progress", "approved_at", "finished_at")
    change_form_template = "admin/accountability/breachcommunication/change_form.html"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["breach", "subject_nb", "body_nb", "subject_en", "body_en", "organisations",
                    "choose_categories", "addresses"]  # fmt: skip
        return ["breach", "status", "progress", "selection", "approved_by", "approved_at", "finished_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_fields(request, obj) if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_communicate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accountability.communicate_breach")

    @admin.display(description=_("progress"))
    def progress(self, obj: BreachCommunication) -> str:
        counts = selectors.communication_progress(communication=obj)
        return _("%(sent)d of %(total)d told") % counts

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = services.breach_communication_create(
            actor=Actor.from_request(request), breach=data["breach"],
            subject_nb=data["subject_nb"], body_nb=data["body_nb"],
            subject_en=data["subject_en"], body_en=data["body_en"],
            organisation_ids=[o.pk for o in data.get("organisations") or []],
            categories=data.get("choose_categories") or [], addresses=data.get("addresses") or [],
        )  # fmt: skip
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # the service wrote everything

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<int:pk>/send/", self.admin_site.admin_view(require_POST(self.send_view)),
                 name="accountability_breachcommunication_send"),
            *super().get_urls(),
        ]  # fmt: skip

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ):
        communication = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if communication is not None:
            extra_context["previews"] = [
                (code, label, render_email("accountability-breach-people", {
                    "subject": getattr(communication, f"subject_{code}"),
                    "body": getattr(communication, f"body_{code}"),
                }, language=code))
                for code, label in (("nb", _("Bokmål")), ("en", _("English")))
            ]  # fmt: skip
            extra_context["can_send"] = (
                communication.status == BreachCommunication.Status.DRAFT
                and self.has_communicate_permission(request)
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_communicate_permission(request):
            raise PermissionDenied
        communication = BreachCommunication.objects.filter(pk=pk).first()
        if communication is None:
            raise Http404
        try:
            services.breach_communication_start(
                actor=Actor.from_request(request), communication=communication
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Sending has started; the progress shows here."))
        return redirect("admin:accountability_breachcommunication_change", pk)
