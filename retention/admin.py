"""Admin doors for retention: policies, holds, run history, statistics, and the preview.

Every write goes through retention.services, so the admin cannot skip
validation or the audit trail.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ServiceAdmin
from core.audit import Actor, audit_record
from core.errors import ApplicationError
from core.permissions import RUN_RETENTION, user_may
from core.registry import registry
from core.removal.admin import ReadOnlyAdminMixin
from subjects.admin import ContactPanel, register_contact_panel
from subjects.models import Contact

from . import services
from .models import LegalHold, RetentionPolicy, RetentionStatistic, SweepRun
from .selectors import policy_explain, retention_preview


def _category_choices() -> list[tuple[str, str]]:
    return [("", "---------")] + [(c, c) for c in registry.categories() if c]


class RetentionPolicyForm(forms.ModelForm):
    category = forms.ChoiceField(label=_("data category"), choices=_category_choices)

    class Meta:
        model = RetentionPolicy
        fields = (
            "code", "category", "period_days", "anchor", "fallback_anchor", "action",
            "keep_for_statistics", "exempt_active_customers", "max_share", "reason", "enabled",
        )  # fmt: skip


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(ServiceAdmin):
    form = RetentionPolicyForm
    create_service = services.policy_create
    update_service = services.policy_update
    instance_kwarg = "policy"
    audit_views = False  # a policy is about no one
    change_list_template = "admin/retention/retentionpolicy/change_list.html"
    list_display = ("code", "category", "period_days", "anchor_label", "action", "max_share", "enabled")
    list_filter = ("enabled", "action", "category")
    search_fields = ("code", "category")
    actions = ("run_now",)

    @admin.display(description=_("measured from"))
    def anchor_label(self, policy: RetentionPolicy) -> str:
        if policy.anchor:
            return policy.anchor
        anchors = {d.retention_anchor or "" for d in registry.by_category(policy.category)}
        return ", ".join(sorted(a for a in anchors if a)) or "—"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="retention_retentionpolicy_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        lines = retention_preview()
        # The sample names people: showing it is itself recorded (Art. 32).
        audit_record(
            actor=Actor.from_request(request), action="retention.preview", target_type="retention.preview"
        )
        rows = []
        for line in lines:
            model = line.declaration.model
            sample = []
            for item in line.sample:
                try:
                    url = reverse(
                        f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[item["pk"]]
                    )
                except Exception:  # a model without an admin page
                    url = ""
                sample.append({**item, "url": url})
            rows.append({"line": line, "sample": sample, "name": model._meta.verbose_name_plural})
        # The same explanation as ``manage.py retention_preview``: period, anchor, cut-off, what goes,
        # what is spared and why, the cascade per table, in the staff member's language.
        explained = [policy_explain(policy=p) for p in RetentionPolicy.objects.filter(enabled=True)]
        context = {
            **self.admin_site.each_context(request),
            "title": _("What the next retention run will remove"),
            "rows": rows,
            "explained": explained,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/retention/preview.html", context)

    def has_run_permission(self, request: HttpRequest) -> bool:
        return user_may(request, RUN_RETENTION)

    # A sweep deletes and anonymises now: seeing the policies is not enough.
    @admin.action(description=_("Run the selected policies now (in the background)"), permissions=["run"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[RetentionPolicy]) -> None:
        from .tasks import retention_sweep_task

        codes = list(queryset.values_list("code", flat=True))
        transaction.on_commit(lambda: retention_sweep_task.delay(codes=codes, trigger=SweepRun.Trigger.ADMIN))
        self.message_user(request, _("The sweep has been started; its runs appear under Sweep runs."))


class LegalHoldForm(forms.ModelForm):
    category = forms.ChoiceField(label=_("data category"), choices=_category_choices, required=False)

    class Meta:
        model = LegalHold
        fields = ("scope", "contact", "organisation", "category", "reason", "starts_on", "ends_on")


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    form = LegalHoldForm
    list_display = ("__str__", "scope", "target", "starts_on", "ends_on", "active", "placed_by")
    list_filter = ("scope", "ends_on")
    raw_id_fields = ("contact", "organisation")
    readonly_fields = ("lifted_at", "placed_by", "created_at")
    list_select_related = ("contact", "organisation", "placed_by")
    actions = ("lift",)

    @admin.display(description=_("holds"))
    def target(self, hold: LegalHold) -> str:
        return str(hold.contact or hold.organisation or hold.category)

    @admin.display(description=_("active"), boolean=True)
    def active(self, hold: LegalHold) -> bool:
        return hold.is_active

    def save_model(self, request: HttpRequest, obj: LegalHold, form: Any, change: bool) -> None:
        actor = Actor.from_request(request)
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in LegalHoldForm.Meta.fields}
            services.legal_hold_update(hold=obj, actor=actor, changes=changes)
            return
        values = {f: form.cleaned_data[f] for f in LegalHoldForm.Meta.fields}
        saved = services.legal_hold_place(actor=actor, placed_by=request.user, **values)
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a hold is lifted, not deleted: its history is evidence

    @admin.action(description=_("Lift the selected holds"), permissions=["change"])
    def lift(self, request: HttpRequest, queryset: QuerySet[LegalHold]) -> None:
        lifted = 0
        for hold in queryset.filter(lifted_at__isnull=True):
            try:
                services.legal_hold_lift(hold=hold, actor=Actor.from_request(request))
                lifted += 1
            except (ApplicationError, ValidationError) as error:
                self.message_user(request, str(getattr(error, "message", error)), messages.WARNING)
        self.message_user(request, _("%(count)d holds lifted.") % {"count": lifted})


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at", "policy_code", "category", "trigger", "status", "due", "deleted", "anonymised",
        "error_count", "finished_at",
    )  # fmt: skip
    list_filter = ("status", "trigger", "policy_code")
    date_hierarchy = "started_at"


@admin.register(RetentionStatistic)
class RetentionStatisticAdmin(ReadOnlyAdmin):
    list_display = ("month", "category", "model", "organisation_ref", "relationship", "kind", "count")
    list_filter = ("category", "model", "relationship")
    date_hierarchy = "month"
    show_full_result_count = False


def _contact_holds(contact: Contact) -> dict[str, Any]:
    holds = LegalHold.objects.filter(contact=contact) | LegalHold.objects.filter(
        organisation_id=contact.organisation_id, organisation__isnull=False
    )
    return {"holds": list(holds.select_related("organisation").order_by("-created_at"))}


register_contact_panel(
    ContactPanel(
        title=_("Legal holds"), template="retention/snippets/contact_holds.html", context=_contact_holds
    )
)
