"""Staff doors: purposes, assessments, notices, the read-only ledger, the report, the contact panel."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ServiceAdmin
from core.audit import Actor
from core.errors import ApplicationError
from core.permissions import PUBLISH_NOTICE, user_may
from core.removal.admin import ReadOnlyAdminMixin
from subjects.admin import ContactPanel, register_contact_panel
from subjects.models import Contact

from . import selectors, services
from .models import (
    ConsentEvent,
    InformationNotice,
    LegalBasis,
    LegitimateInterestAssessment,
    MarketingClearance,
    NoticeNotification,
    PrivacyNotice,
    Purpose,
    SuppressionEntry,
)


class PurposeForm(forms.ModelForm):
    class Meta:
        model = Purpose
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The form has already changed self.instance: compare with what it showed (form.initial).
        stored_code = self.initial.get("code")
        if (
            self.instance.pk is not None
            and "code" in self.changed_data
            and ConsentEvent.objects.filter(purpose_id=self.instance.pk).exists()
        ):
            self.add_error("code", _("The code of a purpose with recorded consents cannot change."))
            data["code"] = stored_code
        # Art. 6(1)(f): the admin shows the gate as a form error, before the service refuses.
        if (
            data.get("is_active")
            and data.get("legal_basis") == LegalBasis.LEGITIMATE_INTEREST
            and (
                self.instance.pk is None
                or not selectors.purpose_has_approved_assessment(purpose=self.instance)
            )
        ):
            raise forms.ValidationError(
                _(
                    "A purpose on legitimate interest cannot be switched on "
                    "without an approved, current assessment."
                )
            )
        return data


class AssessmentInline(admin.TabularInline):
    model = LegitimateInterestAssessment
    fields = ("reviewed_on", "outcome", "reviewer", "next_review")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(Purpose)
class PurposeAdmin(ServiceAdmin):
    form = PurposeForm
    create_service = services.purpose_create
    update_service = services.purpose_update
    instance_kwarg = "purpose"
    audit_views = False  # a purpose is not a person
    inlines = (AssessmentInline,)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            super().save_model(request, obj, form, change)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)

    list_display = (
        "code",
        "name_nb",
        "legal_basis",
        "is_marketing",
        "shares_with_third_parties",
        "is_active",
    )
    list_filter = ("legal_basis", "is_marketing", "is_active")
    search_fields = ("code", "name_nb", "name_en")
    change_list_template = "admin/consent/purpose/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path("report/", self.admin_site.admin_view(self.report_view), name="consent_report"),
            path(
                "grounds/<int:contact_id>/<slug:purpose_code>/",
                self.admin_site.admin_view(self.grounds_view),
                name="consent_grounds",
            ),
            *super().get_urls(),
        ]

    def has_grounds_permission(self, request: HttpRequest) -> bool:
        # Recording grounds writes to the consent ledger on the company's behalf.
        return request.user.has_perm("consent.add_consentevent")

    def grounds_view(self, request: HttpRequest, contact_id: int, purpose_code: str) -> HttpResponse:
        """Art. 21(1): record compelling legitimate grounds that override an objection, with a reason."""
        if not self.has_grounds_permission(request):
            raise PermissionDenied
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            raise Http404
        purpose = Purpose.objects.filter(code=purpose_code).first()
        if purpose is None:
            raise Http404
        error, reason = "", ""
        if request.method == "POST":
            reason = request.POST.get("reason", "").replace("\x00", "")
            try:
                services.objection_grounds_record(
                    contact=contact,
                    purpose_code=purpose.code,
                    actor=Actor.from_request(request),
                    reason=reason,
                )
            except ValidationError as exc:
                error = "; ".join(exc.messages)
            except ApplicationError as exc:
                error = exc.message
            else:
                self.message_user(request, _("The grounds are recorded and the person is told."))
                return HttpResponseRedirect(reverse("admin:subjects_contact_change", args=[contact.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Compelling legitimate grounds"),
            "purpose": purpose,
            "contact": contact,
            "error": error,
            "reason": reason,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/consent/grounds.html", context)

    def report_view(self, request: HttpRequest) -> HttpResponse:
        """Consents per purpose and state (from the projection); ``?format=csv`` downloads it."""
        if not request.user.has_perm("consent.view_consentevent"):
            raise PermissionDenied
        rows = selectors.consent_report()
        if request.GET.get("format") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="consent-report.csv"'
            writer = csv.writer(response)
            writer.writerow([str(_("purpose")), str(_("name")), str(_("state")), str(_("contacts"))])
            for row in rows:
                writer.writerow([row["purpose__code"], row["purpose__name_nb"], row["state"], row["total"]])
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": _("Consent report"),
            "rows": rows,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/consent/report.html", context)


@admin.register(LegitimateInterestAssessment)
class LegitimateInterestAssessmentAdmin(ServiceAdmin):
    create_service = services.assessment_record
    update_service = services.assessment_update
    instance_kwarg = "assessment"
    audit_views = False
    list_display = ("purpose", "outcome", "reviewer", "reviewed_on", "next_review")
    list_filter = ("outcome", "purpose")
    list_select_related = ("purpose", "reviewer")
    autocomplete_fields = ("purpose",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            super().save_model(request, obj, form, change)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(ServiceAdmin):
    create_service = services.notice_create
    update_service = services.notice_update
    instance_kwarg = "notice"
    audit_views = False
    list_display = (
        "version",
        "effective_from",
        "is_material",
        "published_at",
        "campaign_finished_at",
        "sent",
    )
    readonly_fields = ("published_at", "campaign_finished_at", "created_at")
    actions = ("publish",)

    def get_readonly_fields(self, request: HttpRequest, obj: PrivacyNotice | None = None) -> tuple[str, ...]:
        if obj is not None and obj.is_published:
            # Each version stays readable exactly as it was published.
            return tuple(f.name for f in PrivacyNotice._meta.fields if f.name != "id")
        return self.readonly_fields

    @admin.display(description=_("contacts told"))
    def sent(self, notice: PrivacyNotice) -> int:
        return notice.notifications.count() if notice.is_material else 0

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return user_may(request, PUBLISH_NOTICE)

    # Publishing mails every contact a material change: more than editing a draft.
    @admin.action(description=_("Publish the selected versions"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[PrivacyNotice]) -> None:
        actor = Actor.from_request(request)
        for notice in queryset:
            try:
                services.notice_publish(notice=notice, actor=actor)
            except ApplicationError as error:
                self.message_user(request, f"{notice.version}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, _("Published %(version)s.") % {"version": notice.version})


class ReadOnlyAdmin(ReadOnlyAdminMixin, ServiceAdmin):
    """A record of what happened, whose views are audited like the register's."""


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "contact_link", "purpose", "action", "channel", "authority", "notice")
    list_filter = ("action", "channel", "authority", "purpose")
    list_select_related = ("contact", "purpose", "notice")
    search_fields = ("=contact__email", "=receipt_id")
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    @admin.display(description=_("contact"))
    def contact_link(self, event: ConsentEvent) -> str:
        url = reverse("admin:subjects_contact_change", args=[event.contact_id])
        return format_html('<a href="{}">{}</a>', url, event.contact)


@admin.register(NoticeNotification)
class NoticeNotificationAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "notice", "contact", "language")
    list_filter = ("notice",)
    list_select_related = ("notice", "contact")
    search_fields = ("=contact__email",)
    show_full_result_count = False


@admin.register(InformationNotice)
class InformationNoticeAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "contact", "notice", "late")
    list_filter = ("late",)
    list_select_related = ("notice", "contact")
    search_fields = ("=contact__email",)
    show_full_result_count = False


@admin.register(MarketingClearance)
class MarketingClearanceAdmin(ReadOnlyAdmin):
    list_display = ("checked_at", "reference", "purpose", "basis", "contact")
    list_filter = ("basis", "purpose")
    list_select_related = ("purpose", "contact")
    search_fields = ("=reference", "=contact__email")
    show_full_result_count = False


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "reason")
    list_filter = ("reason",)
    audit_views = False


def _contact_panel(contact: Contact) -> dict[str, Any]:
    # Four queries whatever the history's length: purposes, states, events, their count.
    history = selectors.consent_history_for_contact(contact=contact, limit=50)
    return {
        "contact_id": contact.pk,
        "states": selectors.consent_state_for_contact(contact=contact),
        "history": list(history),
        "history_total": ConsentEvent.objects.filter(contact=contact).count(),
        "ledger_url": reverse("admin:consent_consentevent_changelist") + f"?contact__id__exact={contact.pk}",
    }


register_contact_panel(
    ContactPanel(title=_("Consents"), template="consent/admin/contact_panel.html", context=_contact_panel)
)
