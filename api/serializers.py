"""Input and output shapes of /api/v1/: they bind and document; services decide."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from consent.models import Channel as ConsentChannel
from requests_dsar.models import DataSubjectRequest
from subjects.models import Contact, Interaction

from .models import WebhookEvent

# The bulk check answers up to this many addresses in one call.
BULK_CHECK_MAX = 100_000


def _no_nul(value: str) -> None:
    # PostgreSQL refuses NUL in text: a 400 here, never a 500 later.
    if "\x00" in value:
        raise serializers.ValidationError(_("Text must not contain NUL characters."))


class Text(serializers.CharField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.validators.append(_no_nul)


# --- Consent ---------------------------------------------------------------------------


class ConsentCheckQuery(serializers.Serializer):
    email = Text(max_length=254, help_text=_("The address (or send it in the Personvern-Email header)."))
    purpose = Text(max_length=50, help_text=_("The purpose's code, e.g. newsletter."))


class ConsentCheckAnswer(serializers.Serializer):
    allowed = serializers.BooleanField()
    basis = serializers.CharField(allow_null=True, help_text=_("What cleared it; null when not allowed."))


class ConsentBulkCheckInput(serializers.Serializer):
    purpose = Text(max_length=50)
    emails = serializers.ListField(child=Text(max_length=254), max_length=BULK_CHECK_MAX)


class ConsentBulkCheckRow(serializers.Serializer):
    email = serializers.CharField()
    allowed = serializers.BooleanField()
    basis = serializers.CharField(allow_null=True)


class ConsentBulkCheckAnswer(serializers.Serializer):
    purpose = serializers.CharField()
    results = ConsentBulkCheckRow(many=True)


class ConsentEventInput(serializers.Serializer):
    ACTIONS = (("grant", _("grant")), ("withdraw", _("withdraw")), ("object", _("object")))

    email = serializers.EmailField(max_length=254)
    purpose = Text(max_length=50)
    action = serializers.ChoiceField(choices=ACTIONS)
    wording = Text(
        max_length=5000, required=False, allow_blank=True,
        help_text=_("The exact text the person was shown (required for a grant)."),
    )  # fmt: skip
    notice_version = Text(max_length=20, required=False, allow_blank=True)
    channel = serializers.ChoiceField(
        choices=[c for c in ConsentChannel.choices if c[0] != ConsentChannel.STAFF],
        help_text=_("Where the person acted (the web form, a link, ...)."),
    )
    occurred_at = serializers.DateTimeField(help_text=_("When the person acted."))
    reference = Text(max_length=200, required=False, allow_blank=True)
    ip_address = serializers.IPAddressField(required=False, allow_null=True)
    user_agent = Text(max_length=500, required=False, allow_blank=True)


class ConsentEventAnswer(serializers.Serializer):
    recorded = serializers.BooleanField(help_text=_("False when it changed nothing (already so)."))
    event_id = serializers.IntegerField(allow_null=True)
    state = serializers.CharField(allow_null=True)


# --- Contacts, imports, interactions --------------------------------------------------


class ContactInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = Text(max_length=200)
    phone = Text(max_length=30, required=False, allow_blank=True)
    job_title = Text(max_length=200, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Contact.Language.choices, required=False)
    organisation_number = Text(max_length=20, required=False, allow_blank=True)
    organisation_name = Text(max_length=200, required=False, allow_blank=True)
    # Provenance is required (Art. 14, the policy's Når samler vi inn).
    source_type = serializers.ChoiceField(choices=Contact.SourceType.choices)
    source_name = Text(max_length=200)
    source_attests_consent = serializers.BooleanField(default=False)


class ContactAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    created = serializers.BooleanField()
    updated = serializers.BooleanField()


class ImportParams(serializers.Serializer):
    source_type = serializers.ChoiceField(choices=Contact.SourceType.choices)
    source_name = Text(max_length=200)
    source_attests_consent = serializers.BooleanField(default=False)


class ImportJobAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    rows_total = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    organisations_created = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField(), help_text=_("{row, field, message}"))
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class InteractionInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    occurred_at = serializers.DateTimeField()
    summary = Text(max_length=500, required=False, allow_blank=True)


class InteractionAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    last_interaction_at = serializers.DateTimeField()


# --- Suppression -----------------------------------------------------------------------


class SuppressionCheckInput(serializers.Serializer):
    emails = serializers.ListField(child=Text(max_length=254), max_length=BULK_CHECK_MAX)


class SuppressionCheckAnswer(serializers.Serializer):
    suppressed = serializers.ListField(
        child=serializers.BooleanField(),
        help_text=_("One answer per address, in the order sent: true = never email it."),
    )


# --- Requests -------------------------------------------------------------------------


# What an integration sends when nobody checked the person's identity.
NO_IDENTITY_CHECK = {"none"}


class RequestInput(serializers.Serializer):
    CHANNELS = (
        ("phone", _("phone")), ("email", _("email")), ("letter", _("letter")),
        ("in_person", _("in person")), ("support_desk", _("support desk")), ("other", _("other")),
    )  # fmt: skip

    type = serializers.ChoiceField(choices=DataSubjectRequest.Type.choices)
    email = serializers.EmailField(max_length=254)
    name = Text(max_length=200, required=False, allow_blank=True)
    organisation = Text(max_length=200, required=False, allow_blank=True)
    details = Text(max_length=5000, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=(("nb", "nb"), ("en", "en")), default="nb")
    channel = serializers.ChoiceField(choices=CHANNELS, help_text=_("How the request reached you."))
    identity_check = Text(
        max_length=1000,
        help_text=_(
            "How the person's identity was checked (Art. 12(6)): the request is then verified at once "
            'and the person emailed a receipt. "none" if it was not: the person is emailed a link '
            "to confirm it."
        ),
    )


class RequestAnswer(serializers.Serializer):
    reference = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    extended = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)


# --- Webhook subscriptions (a client's own) ----------------------------------------------


class WebhookSubscriptionInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=10
    )


class WebhookSubscriptionAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    recipient = serializers.CharField()
    paused = serializers.BooleanField()
    secret = serializers.CharField(required=False, help_text=_("Only in the answer that creates it."))


class WebhookSubscriptionList(serializers.Serializer):
    results = WebhookSubscriptionAnswer(many=True)
