"""Staff doors to the accountability registers; every write goes through the services."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone, translation
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin_mixins import ServiceAdmin
from core.audit import Actor, audit_record
from core.errors import ApplicationError
from core.mail import render_email
from core.registry import registry
from core.removal.admin import ReadOnlyAdminMixin
from subjects.models import Organisation

from . import records, selectors, services
from .dashboard import clock_text
from .models import (
    Breach,
    BreachCommunication,
    BreachRevision,
    Disclosure,
    ProcessingRecordVersion,
    ProcessorActivity,
    Recipient,
)


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


# --- Records of processing (Art. 30) -----------------------------------------------------------


@admin.register(ProcessorActivity)
class ProcessorActivityAdmin(admin.ModelAdmin):
    list_display = ("customer", "processing", "started_on", "ended_on")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    filter_horizontal = ("sub_processors",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # ended, not deleted: the record of a past date still names it


class RecordForm(forms.Form):
    as_at = forms.DateField(label=_("as at"), required=False)
    lang = forms.ChoiceField(
        label=_("language"), choices=(("nb", _("Bokmål")), ("en", _("English"))), required=False
    )
    format = forms.ChoiceField(choices=(("html", "HTML"), ("csv", "CSV"), ("json", "JSON")), required=False)


class RecordDiffForm(forms.Form):
    since = forms.DateField(label=_("from"))
    until = forms.DateField(label=_("to"))
    lang = forms.ChoiceField(
        label=_("language"), choices=(("nb", _("Bokmål")), ("en", _("English"))), required=False
    )


@admin.register(ProcessingRecordVersion)
class ProcessingRecordVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The versions kept, and the record itself: printable, CSV, JSON, as at a date, and a diff."""

    list_display = ("taken_at", "digest")
    fields = ("taken_at", "digest")
    change_list_template = "admin/accountability/processingrecordversion/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("record/", view(self.record_view), name="accountability_record"),
            path("record/diff/", view(self.diff_view), name="accountability_record_diff"),
            *super().get_urls(),
        ]

    def record_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RecordForm(request.GET or None)
        if request.GET and not form.is_valid():
            return HttpResponseBadRequest(_("Give the date as YYYY-MM-DD."))
        data = form.cleaned_data if request.GET else {}
        language = data.get("lang") or (translation.get_language() or "nb")[:2]
        as_at = data.get("as_at")
        record, since = selectors.processing_record_as_at(on=as_at, language=language)
        audit_record(
            actor=Actor.from_request(request), action="record_of_processing.view",
            target_type="accountability.record", target_id=as_at.isoformat() if as_at else "now",
        )  # fmt: skip
        stamp = (as_at or timezone.localdate()).isoformat()
        if record is not None and data.get("format") == "json":
            response = HttpResponse(
                json.dumps({"as_at": stamp, "language": language, **record}, ensure_ascii=False, indent=1),
                content_type="application/json",
            )
            response["Content-Disposition"] = f'attachment; filename="records-of-processing-{stamp}.json"'
            return response
        if record is not None and data.get("format") == "csv":
            response = HttpResponse(records.as_csv(record), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="records-of-processing-{stamp}.csv"'
            return response
        # Rendered inside the override: a TemplateResponse would otherwise render after it, in the
        # staff member's language, whatever was asked for.
        with translation.override(language):
            return TemplateResponse(request, "admin/accountability/record.html", {
                **self.admin_site.each_context(request),
                "title": _("Records of processing activities (Art. 30)"),
                "record": record, "since": since, "as_at": as_at, "language": language, "form": form,
                "opts": self.model._meta,
            }).render()  # fmt: skip

    def diff_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RecordDiffForm(request.GET or None)
        changes = None
        if form.is_valid():
            language = form.cleaned_data.get("lang") or "nb"
            old, _since = selectors.processing_record_as_at(on=form.cleaned_data["since"], language=language)
            new, _until = selectors.processing_record_as_at(on=form.cleaned_data["until"], language=language)
            empty = {"controller": {"activities": [], "security_measures": []},
                     "processor": {"activities": [], "security_measures": []}}  # fmt: skip
            changes = records.diff(old or empty, new or empty)
        return TemplateResponse(request, "admin/accountability/record_diff.html", {
            **self.admin_site.each_context(request),
            "title": _("Records of processing: what changed"), "form": form, "changes": changes,
            "opts": self.model._meta,
        })  # fmt: skip
