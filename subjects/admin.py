from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ServiceAdmin, csv_export_response
from core.audit import Actor, audit_record
from core.permissions import EXPORT_CONTACTS, user_may
from core.removal.admin import EraseActionMixin, NoStockDeleteMixin
from rights.services import (
    contacts_erase,
    contacts_erase_preview,
    job_applications_erase,
    organisations_erase,
)

from . import services
from .forms import ContactForm, JobApplicationForm, OrganisationForm
from .models import (
    ApplicationDocument,
    Contact,
    Interaction,
    JobApplication,
    Organisation,
    WebVisit,
)
from .selectors import contact_recent_interactions, subject_everything


@dataclass(frozen=True)
class ContactPanel:
    """A section another app adds to the contact page (consents, requests, holds)."""

    title: str
    template: str
    context: Callable[[Contact], dict[str, Any]]


_contact_panels: list[ContactPanel] = []


def register_contact_panel(panel: ContactPanel) -> ContactPanel:
    """Called from another app's admin.py; its template is included with the panel's context."""
    _contact_panels.append(panel)
    return panel


def _organisations_preview(*, organisations: QuerySet[Organisation]) -> Any:
    return organisations_erase(organisations=organisations, actor=Actor.system("preview"), dry_run=True)


def _applications_preview(*, applications: QuerySet[JobApplication]) -> Any:
    return job_applications_erase(applications=applications, actor=Actor.system("preview"), dry_run=True)


@admin.register(Organisation)
class OrganisationAdmin(EraseActionMixin, ServiceAdmin):
    # Erase: the people who represent it, then the organisation (core.removal).
    erase_service = organisations_erase
    erase_preview = _organisations_preview
    erase_keyword = "organisations"
    actions = ("erase_selected",)
    form = OrganisationForm
    create_service = services.organisation_create
    update_service = services.organisation_update
    instance_kwarg = "organisation"
    audit_views = False  # an organisation is not a person
    list_display = (
        "name",
        "org_number",
        "city",
        "is_customer",
        "is_supplier",
        "is_partner",
        "is_prospect",
        "contact_count",
    )
    list_filter = ("is_customer", "is_supplier", "is_partner", "is_prospect", "country")
    search_fields = ("name", "=org_number", "email", "phone")
    fieldsets = (
        (None, {"fields": ("name", "org_number", "website")}),
        (
            _("Contact details"),
            {"fields": ("street_address", "postal_code", "city", "country", "phone", "email")},
        ),
        (
            _("Relationship"),
            {"fields": ("is_customer", "customer_contract_ends", "is_supplier", "is_partner", "is_prospect")},
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        return super().get_queryset(request).annotate(contact_total=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="contact_total")
    def contact_count(self, organisation: Organisation) -> int:
        return organisation.contact_total


class InteractionInline(admin.TabularInline):
    model = Interaction
    fields = ("occurred_at", "kind", "summary", "staff_member")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("latest interactions")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Interaction]:
        return super().get_queryset(request).select_related("staff_member")


@admin.register(Contact)
class ContactAdmin(EraseActionMixin, ServiceAdmin):
    # Erase: the person, as their own erasure request would (journal, suppression, files).
    erase_service = contacts_erase
    erase_preview = contacts_erase_preview
    erase_keyword = "contacts"
    form = ContactForm
    create_service = services.contact_create
    update_service = services.contact_update
    instance_kwarg = "contact"
    change_form_template = "admin/subjects/contact/change_form.html"
    list_display = (
        "name",
        "email",
        "organisation",
        "job_title",
        "source_type",
        "last_interaction_at",
    )
    list_select_related = ("organisation",)
    list_filter = (
        "source_type",
        "email_kind",
        "language",
        "source_attests_consent",
        "organisation__is_customer",
    )
    search_fields = ("name", "email", "phone", "organisation__name", "=organisation__org_number")
    autocomplete_fields = ("organisation",)
    date_hierarchy = "last_interaction_at"
    readonly_fields = ("last_interaction_at", "created_at", "updated_at")
    actions = ("export_csv", "erase_selected")
    show_full_result_count = False  # COUNT(*) of a million rows on every page view is waste
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "email",
                    "email_kind",
                    "phone",
                    "job_title",
                    "organisation",
                    "language",
                )
            },
        ),
        (
            _("Where the data came from"),
            {"fields": ("source_type", "source_name", "collected_at", "source_attests_consent")},
        ),
        (_("History"), {"fields": ("last_interaction_at", "created_at", "updated_at")}),
    )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        contact = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if contact is not None:
            extra_context.update(
                recent_interactions=contact_recent_interactions(contact=contact),
                interaction_total=contact.interactions.count(),
                subject_sections=subject_everything(email=contact.email),
                contact_panels=[
                    {"title": p.title, "template": p.template, **p.context(contact)} for p in _contact_panels
                ],
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return user_may(request, EXPORT_CONTACTS)

    # Personal data leaving as a file is its own right, apart from seeing the list.
    @admin.action(description=_("Export selected contacts as CSV"), permissions=["export"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Contact]) -> HttpResponse:
        return csv_export_response(
            request=request,
            queryset=queryset.order_by("pk"),
            columns=[
                ("name", _("name")),
                ("email", _("email")),
                ("phone", _("phone")),
                ("job_title", _("job title")),
                ("organisation__name", _("organisation")),
                ("source_type", _("source type")),
                ("last_interaction_at", _("last interaction")),
            ],
            filename="contacts.csv",
        )


@admin.register(Interaction)
class InteractionAdmin(NoStockDeleteMixin, ServiceAdmin):
    update_service = services.interaction_update
    instance_kwarg = "interaction"
    list_display = ("occurred_at", "kind", "contact", "staff_member")
    list_select_related = ("contact", "staff_member")
    list_filter = ("kind",)
    search_fields = ("contact__name", "contact__email")
    autocomplete_fields = ("contact",)
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    @staticmethod
    def create_service(*, actor: Actor, **values: Any) -> Interaction:
        return services.interaction_record(actor=actor, **values)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        # hardening (issue 11, 9): the column is nullable only so that erasure can
        # anonymise; an interaction staff record is always with someone.
        if db_field.name == "contact":
            field.required = True
        return field


class ApplicationDocumentInline(admin.TabularInline):
    model = ApplicationDocument
    fields = ("title", "file", "download", "uploaded_at")
    readonly_fields = ("download", "uploaded_at")
    extra = 0
    # A document leaves with its application, through the removal engine (its file on commit).
    can_delete = False

    @admin.display(description=_("open"))
    def download(self, document: ApplicationDocument) -> str:
        if not document.pk:
            return "-"
        url = reverse("subjects:application_document", args=[document.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open"))


@admin.register(JobApplication)
class JobApplicationAdmin(EraseActionMixin, ServiceAdmin):
    erase_service = job_applications_erase
    erase_preview = _applications_preview
    erase_keyword = "applications"
    actions = ("erase_selected",)
    form = JobApplicationForm
    create_service = services.job_application_create
    update_service = services.job_application_update
    instance_kwarg = "application"
    inlines = (ApplicationDocumentInline,)
    list_display = ("position", "name", "status", "submitted_at", "decided_at")
    list_filter = ("status", "position")
    search_fields = ("name", "email", "phone", "position")
    date_hierarchy = "submitted_at"

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        actor = Actor.from_request(request)
        for document in formset.new_objects:
            audit_record(
                actor=actor,
                action="application_document.create",
                target=document,
                fields=["file", "title"],
            )
        for document, changed in formset.changed_objects:
            audit_record(actor=actor, action="application_document.update", target=document, fields=changed)
        for document in formset.deleted_objects:
            audit_record(
                actor=actor,
                action="application_document.delete",
                target_type="subjects.applicationdocument",
                target_id=document.pk,
            )


@admin.register(WebVisit)
class WebVisitAdmin(NoStockDeleteMixin, ServiceAdmin):
    create_service = services.web_visit_record
    list_display = ("visited_at", "path", "ip_address", "contact")
    list_select_related = ("contact",)
    search_fields = ("=ip_address", "path", "contact__email")
    date_hierarchy = "visited_at"
    autocomplete_fields = ("contact",)
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: WebVisit | None = None) -> bool:
        # A visit is a record of what happened; it is not edited afterwards.
        return False
