"""Admin doors for API clients: create (the key is shown once), rotate, revoke."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import Actor

from . import services
from .models import (
    ApiClient,
    ApiKey,
    ImportJob,
    Scope,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from .webhooks import services as webhooks


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    allowed_networks = forms.CharField(
        label=gettext_lazy("allowed networks"),
        required=False,
        help_text=gettext_lazy("CIDR networks, comma separated (e.g. 10.0.0.0/8); empty: any."),
    )

    class Meta:
        model = ApiClient
        fields = ["name", "owner", "scopes", "allowed_networks", "rate_limit", "recipient", "expires_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_networks"] = ", ".join(self.instance.allowed_networks)

    def clean_allowed_networks(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_networks") or ""
        return [n.strip() for n in raw.split(",") if n.strip()]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["prefix", "created", "expires_at", "revoked"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = ["name", "owner", "rate_limit", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "last_used_at", "revoked_at"]
    inlines = [ApiKeyInline]
    actions = ["rotate_key", "revoke"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A client is revoked, never deleted: the audit trail names it.
        return False

    def save_model(self, request: HttpRequest, obj: ApiClient, form: forms.ModelForm, change: bool) -> None:
        actor = Actor.from_request(request)
        if change:
            obj.full_clean()
            obj.save()
            from core.audit import audit_record

            audit_record(actor=actor, action="api_client.update", target=obj, fields=form.changed_data)
            return
        client, secret = services.api_client_create(
            actor=actor,
            name=obj.name,
            owner=obj.owner,
            scopes=obj.scopes,
            allowed_networks=obj.allowed_networks,
            rate_limit=obj.rate_limit,
            expires_at=obj.expires_at,
            recipient=obj.recipient,
        )
        obj.pk = client.pk
        obj.refresh_from_db()
        self._show_key_once(request, secret)

    def _show_key_once(self, request: HttpRequest, secret: str) -> None:
        messages.warning(
            request,
            _("The API key is %(key)s. Copy it now: it is shown only this once and stored only as a hash.")
            % {"key": secret},
        )

    @admin.action(
        description=gettext_lazy("Issue a new key (old keys keep working for 7 days)"), permissions=["change"]
    )
    def rotate_key(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset.filter(revoked_at=None):
            _key, secret = services.api_key_rotate(client=client, actor=Actor.from_request(request))
            self._show_key_once(request, secret)

    @admin.action(description=gettext_lazy("Revoke the client and all its keys now"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            services.api_client_revoke(client=client, actor=Actor.from_request(request))
        self.message_user(request, _("Revoked %(n)d clients.") % {"n": queryset.count()})


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "client", "created", "expires_at", "revoked"]
    list_filter = ["revoked"]
    readonly_fields = ["prefix", "client", "created", "expires_at", "revoked"]
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys come from the client's page (created, rotated), shown once

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Revoke these keys now"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            services.api_key_revoke(key=key, actor=Actor.from_request(request))
        self.message_user(request, _("Revoked %(n)d keys.") % {"n": queryset.count()})


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "client", "status", "rows_total", "created", "updated", "created_at", "finished_at"]
    list_filter = ["status"]
    exclude = ["payload"]
    readonly_fields = [
        "client", "status", "format", "source_type", "source_name", "source_attests_consent", "rows_total",
        "created", "updated", "organisations_created", "errors", "created_at", "started_at", "finished_at",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Webhooks ------------------------------------------------------------------------------


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=gettext_lazy("events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["client", "recipient", "url", "events", "is_active"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["url", "recipient", "client", "is_active", "consecutive_failures", "paused_at"]
    list_filter = ["is_active", "paused_at"]
    readonly_fields = ["consecutive_failures", "paused_at", "created_at"]
    actions = ["rotate_secret", "resume"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the delivery log refers to it

    def save_model(
        self, request: HttpRequest, obj: WebhookSubscription, form: forms.ModelForm, change: bool
    ) -> None:
        actor = Actor.from_request(request)
        if change:
            obj.full_clean()
            obj.save()
            from core.audit import audit_record

            audit_record(actor=actor, action="webhook.update", target=obj, fields=form.changed_data)
            return
        subscription, secret = webhooks.subscription_create(
            actor=actor, url=obj.url, events=obj.events, client=obj.client, recipient=obj.recipient
        )
        obj.pk = subscription.pk
        obj.refresh_from_db()
        self._show_secret(request, secret)

    def _show_secret(self, request: HttpRequest, secret: str) -> None:
        messages.warning(
            request,
            _("The signing secret is %(secret)s. Give it to the receiver now: it is not shown again.")
            % {"secret": secret},
        )

    @admin.action(
        description=gettext_lazy("Rotate the signing secret (the old one signs for 24 hours)"),
        permissions=["change"],
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset:
            self._show_secret(
                request,
                webhooks.subscription_rotate_secret(
                    subscription=subscription, actor=Actor.from_request(request)
                ),
            )

    @admin.action(
        description=gettext_lazy("Resume (close the circuit) and send what waits"), permissions=["change"]
    )
    def resume(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset:
            webhooks.subscription_resume(subscription=subscription, actor=Actor.from_request(request))
        self.message_user(request, _("Resumed %(n)d endpoints.") % {"n": queryset.count()})


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "at", "status_code", "latency_ms", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log and the dead letters (filter by status), with replay."""

    list_display = [
        "message_id",
        "event",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event"]
    exclude = ["payload", "contact_ids"]
    readonly_fields = [
        "subscription", "event", "message_id", "status", "attempts", "next_attempt_at", "last_status_code",
        "created_at", "delivered_at", "request_id", "recipient",
    ]  # fmt: skip
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Replay these dead letters"), permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        actor = Actor.from_request(request)
        replayed = sum(webhooks.delivery_replay(delivery=d, actor=actor) for d in queryset)
        self.message_user(request, _("Queued %(n)d deliveries again.") % {"n": replayed})
