"""The staff workflow: a queue by deadline, and actions that each call one service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.audit import Actor, audit_record
from core.errors import ApplicationError
from core.registry import registry
from subjects.admin import ContactPanel, register_contact_panel

from . import deadlines, services
from .models import DataSubjectRequest, ProcessingRestriction, RecipientNotice, RequestEmail, RequestEvent
from .selectors import requests_for_contact
from .services.expiry import answer_file_keep_days


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("overdue", _("Overdue")), ("week", _("Due within a week")), ("open", _("All open"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        today = deadlines.today()
        open_ = queryset.filter(status__in=DataSubjectRequest.OPEN)
        if self.value() == "overdue":
            return open_.filter(due_date__lt=today)
        if self.value() == "week":
            from datetime import timedelta

            return open_.filter(due_date__gte=today, due_date__lte=today + timedelta(days=7))
        if self.value() == "open":
            return open_
        return queryset


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    fields = ("at", "action", "actor_kind", "actor", "from_status", "to_status", "note", "message")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


class EmailFailedFilter(admin.SimpleListFilter):
    title = _("email delivery")
    parameter_name = "email"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("failed", _("An email could not be delivered")), ("queued", _("An email is waiting"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in (RequestEmail.Status.FAILED, RequestEmail.Status.QUEUED):
            return queryset.filter(emails__status=self.value()).distinct()
        return queryset


class RequestEmailInline(admin.StackedInline):
    model = RequestEmail
    fields = ("status", "failure", "queued_at", "sent_at", "kind", "to", "subject", "body")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    classes = ("collapse",)


class RecipientNoticeInline(admin.TabularInline):
    model = RecipientNotice
    fields = ("recipient", "told_at", "told_by", "channel")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


ACTIONS = {
    "verify": _("Verify identity manually"),
    "assign": _("Assign"),
    "message": _("Message the requester"),
    "extend": _("Extend the deadline"),
    "complete": _("Complete"),
    "refuse": _("Refuse"),
}


class VerifyForm(forms.Form):
    note = forms.CharField(label=_("How was the identity checked?"), widget=forms.Textarea(attrs={"rows": 3}))


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"), queryset=get_user_model().objects.none(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = get_user_model().objects.filter(is_staff=True, is_active=True)


class MessageForm(forms.Form):
    message = forms.CharField(
        label=_("Message (emailed, and shown on the status page)"), widget=forms.Textarea
    )
    wait_for_reply = forms.BooleanField(label=_("Wait for the requester's reply"), required=False)


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Further months"), coerce=int, choices=[(1, _("One month")), (2, _("Two months"))]
    )
    reason = forms.CharField(
        label=_("Reason (emailed to the requester)"), widget=forms.Textarea(attrs={"rows": 3})
    )


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (emailed, with the right to complain to Datatilsynet)"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CompleteForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer to the requester"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )

    def __init__(self, *args: Any, dsar: DataSubjectRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rectifiable: list[tuple[str, str, str]] = []
        if dsar.type == DataSubjectRequest.Type.RECTIFICATION:
            emails = services.request_subject_emails(dsar)
            for declaration in registry.personal():
                if not declaration.rectifiable_fields or not declaration.findable:
                    continue
                row = declaration.rows_for(emails).values(*declaration.rectifiable_fields).first()
                if row is None:
                    continue
                for name in declaration.rectifiable_fields:
                    key = f"{declaration.label}|{name}"
                    current = "" if row[name] is None else str(row[name])
                    self.fields[key] = forms.CharField(
                        label=f"{declaration.model._meta.verbose_name}: {name}",
                        initial=current,
                        required=False,
                        help_text=_("Now: %(value)s. Leave as it is to keep it.") % {"value": current or "-"},
                    )
                    self.rectifiable.append((key, declaration.label, name))

    def changes(self) -> dict[str, dict[str, object]]:
        changes: dict[str, dict[str, object]] = {}
        for key, label, name in self.rectifiable:
            value = (self.cleaned_data.get(key) or "").strip()
            # Blank keeps the value; only a new, different value is a correction.
            if value and value != (self.fields[key].initial or ""):
                changes.setdefault(label, {})[name] = value
        return changes


FORMS = {
    "verify": VerifyForm,
    "assign": AssignForm,
    "message": MessageForm,
    "extend": ExtendForm,
    "refuse": RefuseForm,
    "complete": CompleteForm,
}


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    change_form_template = "admin/requests_dsar/datasubjectrequest/change_form.html"
    list_display = ("reference", "type", "status", "deadline", "assignee", "submitted_at", "requester")
    list_display_links = ("reference",)
    list_filter = (OverdueFilter, EmailFailedFilter, "type", "status", "assignee")
    list_select_related = ("assignee",)
    search_fields = ("=reference", "=email", "name")
    ordering = ("due_date", "submitted_at")
    autocomplete_fields = ("contacts",)
    actions = ("assign_to_me",)
    inlines = (RecipientNoticeInline, RequestEventInline, RequestEmailInline)
    fieldsets = (
        (None, {"fields": ("reference", "type", "status", "assignee", "deadline", "email_delivery")}),
        (_("Requester"), {"fields": ("email", "name", "organisation", "language", "details", "contacts")}),
        (
            _("Dates"),
            {
                "fields": (
                    "submitted_at",
                    "received_at",
                    "first_due_date",
                    "due_date",
                    "extension_months",
                    "closed_at",
                )
            },
        ),
        (
            _("Answer"),
            {
                "fields": (
                    "extension_reason",
                    "answer",
                    "refusal_reason",
                    "answer_ready_at",
                    "answer_file_until",
                    "redacted_at",
                )
            },
        ),
    )
    readonly_fields = (
        "reference", "type", "status", "assignee", "deadline", "email", "name", "organisation", "language",
        "details", "submitted_at", "received_at", "first_due_date", "due_date", "extension_months",
        "closed_at", "extension_reason", "answer", "refusal_reason", "answer_ready_at", "redacted_at",
        "email_delivery", "answer_file_until",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests come through the portal

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the history of an answer is evidence (Art. 5(2))

    @admin.display(description=_("deadline"), ordering="due_date")
    def deadline(self, dsar: DataSubjectRequest) -> str:
        if dsar.due_date is None:
            return "-"
        text = dsar.due_date.strftime("%Y-%m-%d")
        if dsar.is_open and deadlines.is_overdue(dsar.due_date):
            return format_html('<strong style="color:#ba2121">{} ⚠ {}</strong>', text, _("overdue"))
        if dsar.is_extended:
            return format_html("{} ({})", text, _("extended"))
        return text

    @admin.display(description=_("answer file kept until"))
    def answer_file_until(self, dsar: DataSubjectRequest) -> str:
        # Art. 5(1)(e): the DPO sees when the copy of the person's data goes (DSAR_ANSWER_FILE_KEEP_DAYS).
        if not dsar.answer_file:
            return "-"
        if dsar.closed_at is None:
            return _("%(days)d days after the request is closed") % {"days": answer_file_keep_days()}
        until = timezone.localdate(dsar.closed_at) + timedelta(days=answer_file_keep_days())
        return until.strftime("%Y-%m-%d")

    @admin.display(description=_("email delivery"))
    def email_delivery(self, dsar: DataSubjectRequest) -> str:
        # A permanent failure is shown here, so that staff answer the person another way.
        failed = list(dsar.emails.filter(status=RequestEmail.Status.FAILED).values_list("kind", flat=True))
        if failed:
            return format_html(
                '<strong style="color:#ba2121">⚠ {}: {}</strong>',
                _("Could not be delivered; answer the person another way"),
                ", ".join(failed),
            )
        waiting = dsar.emails.filter(status=RequestEmail.Status.QUEUED).count()
        if waiting:
            return _("%(n)d email(s) waiting to be sent") % {"n": waiting}
        return _("Every email was delivered")

    @admin.display(description=_("requester"))
    def requester(self, dsar: DataSubjectRequest) -> str:
        return dsar.name or dsar.email or "-"

    def get_urls(self) -> list[Any]:
        urls = [
            path(
                "<int:pk>/act/<str:action>/",
                self.admin_site.admin_view(self.action_view),
                name="requests_dsar_datasubjectrequest_act",
            ),
            path(
                "<int:pk>/recipient/<int:notice_pk>/told/",
                self.admin_site.admin_view(require_POST(self.recipient_told_view)),
                name="requests_dsar_datasubjectrequest_told",
            ),
        ]
        return urls + super().get_urls()

    def _get(self, request: HttpRequest, pk: int) -> DataSubjectRequest:
        dsar = get_object_or_404(DataSubjectRequest, pk=pk)
        if not self.has_change_permission(request, dsar):
            raise PermissionDenied
        return dsar

    def action_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        if action not in FORMS:
            raise PermissionDenied
        dsar = self._get(request, pk)
        form_class = FORMS[action]
        kwargs: dict[str, Any] = {"dsar": dsar} if action == "complete" else {}
        form = form_class(request.POST if request.method == "POST" else None, **kwargs)
        change_url = reverse("admin:requests_dsar_datasubjectrequest_change", args=[dsar.pk])
        if request.method == "POST" and form.is_valid():
            try:
                self._run(action, request, dsar, form)
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request, _("Done: %(action)s.") % {"action": ACTIONS[action]}, messages.SUCCESS
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": dsar,
            "title": f"{ACTIONS[action]}: {dsar.reference}",
            "form": form,
            "change_url": change_url,
            "action": action,
        }
        return TemplateResponse(request, "admin/requests_dsar/datasubjectrequest/action.html", context)

    def _run(self, action: str, request: HttpRequest, dsar: DataSubjectRequest, form: forms.Form) -> None:
        actor = Actor.from_request(request)
        data = form.cleaned_data
        if action == "verify":
            services.request_verify_manually(request=dsar, actor=actor, note=data["note"])
        elif action == "assign":
            services.request_assign(request=dsar, assignee=data["assignee"], actor=actor)
        elif action == "message":
            services.request_message(
                request=dsar, actor=actor, message=data["message"], wait_for_reply=data["wait_for_reply"]
            )
        elif action == "extend":
            services.request_extend(request=dsar, months=data["months"], reason=data["reason"], actor=actor)
        elif action == "refuse":
            services.request_refuse(request=dsar, reason=data["reason"], actor=actor)
        elif action == "complete":
            services.request_complete(
                request=dsar, actor=actor, answer=data["answer"], changes=form.changes() or None
            )

    def recipient_told_view(self, request: HttpRequest, pk: int, notice_pk: int) -> HttpResponse:
        dsar = self._get(request, pk)
        notice = get_object_or_404(RecipientNotice, pk=notice_pk, request=dsar)
        services.recipient_notice_mark_told(
            notice=notice, actor=Actor.from_request(request), user=request.user
        )
        return HttpResponseRedirect(reverse("admin:requests_dsar_datasubjectrequest_change", args=[dsar.pk]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "dsar_actions": ACTIONS}
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit_record(
                actor=Actor.from_request(request),
                action="datasubjectrequest.view",
                target_type="requests_dsar.datasubjectrequest",
                target_id=object_id,
            )
        return response

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # every field is read-only; the matched contacts are saved in save_related

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if "contacts" in form.changed_data:
            services.request_match_confirm(
                request=form.instance,
                contacts=list(form.cleaned_data["contacts"]),
                actor=Actor.from_request(request),
            )

    @admin.action(description=_("Assign the selected requests to me"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]) -> None:
        for dsar in queryset:
            services.request_assign(request=dsar, assignee=request.user, actor=Actor.from_request(request))
        self.message_user(request, _("Assigned to you."), messages.SUCCESS)


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it lifted? (Art. 18(3): tell the person before lifting a restriction)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(ProcessingRestriction)
class ProcessingRestrictionAdmin(admin.ModelAdmin):
    list_display = ("email", "kind", "started_at", "lifted_at", "request", "lift_link")
    list_filter = ("kind", ("lifted_at", admin.EmptyFieldListFilter))
    search_fields = ("=email",)
    readonly_fields = (
        "email",
        "kind",
        "scope",
        "request",
        "started_at",
        "lifted_at",
        "lift_reason",
        "lift_link",
    )

    @admin.display(description=_("lift"))
    def lift_link(self, restriction: ProcessingRestriction) -> str:
        if restriction.lifted_at or not restriction.pk:
            return "-"
        url = reverse("admin:requests_dsar_processingrestriction_lift", args=[restriction.pk])
        return format_html('<a href="{}">{}</a>', url, _("Lift"))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.lift_view)
        return [
            path("<int:pk>/lift/", view, name="requests_dsar_processingrestriction_lift"),
            *super().get_urls(),
        ]

    def lift_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        restriction = get_object_or_404(ProcessingRestriction, pk=pk, lifted_at=None)
        if not self.has_change_permission(request, restriction):
            raise PermissionDenied
        form = LiftForm(request.POST if request.method == "POST" else None)
        back = reverse("admin:requests_dsar_processingrestriction_changelist")
        if request.method == "POST" and form.is_valid():
            services.restriction_lift(
                restriction=restriction, reason=form.cleaned_data["reason"], actor=Actor.from_request(request)
            )
            self.message_user(request, _("Lifted."), messages.SUCCESS)
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": restriction,
            "title": _("Lift"),
            "form": form,
            "change_url": back,
            "action": "lift",
        }
        return TemplateResponse(request, "admin/requests_dsar/datasubjectrequest/action.html", context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


register_contact_panel(
    ContactPanel(
        title=_("Data-subject requests"),
        template="requests_dsar/snippets/contact_panel.html",
        context=lambda contact: {"requests": list(requests_for_contact(contact=contact)[:20])},
    )
)
