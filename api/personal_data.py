"""What the integration API holds about people, declared for the registry (core.registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.registry import Erasure, PersonalData, registry

from .models import (
    ApiClient,
    ApiKey,
    FiledRequest,
    IdempotentAnswer,
    ImportJob,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

registry.register_not_personal(ApiClient, reason="A system and its settings; the owner is a staff account.")
registry.register_not_personal(ApiKey, reason="A key's prefix and hash.")
registry.register_not_personal(
    FiledRequest, reason="Which client filed a request; the request holds the person."
)

# The first answer to a POST, kept a day for repeats (a bulk check's answer lists
# addresses); not findable by address, so only its age removes it (api.tasks).
registry.register(
    PersonalData(
        model=IdempotentAnswer,
        category="integration_api",
        description=_("Answers our API gave to our other systems, kept a day for their retries"),
        personal_fields=("body", "location"),
        not_personal_fields=("client", "key", "fingerprint", "status_code", "created_at"),
        purposes=("relationship_management",),
        source=_("Our other systems (CRM, mail tool, website)"),
        retention_anchor="created_at",
        retention_note=_("Deleted after a day"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

# An uploaded list waits in ``payload`` until its job has run, then it is emptied.
registry.register(
    PersonalData(
        model=ImportJob,
        category="contact",
        description=_("Lists of contacts our other systems sent us, until they are imported"),
        personal_fields=("payload",),
        not_personal_fields=(
            "client", "status", "format", "source_type", "source_name", "source_attests_consent",
            "rows_total", "created", "updated", "organisations_created", "errors", "created_at",
            "started_at", "finished_at",
        ),
        purposes=("relationship_management",),
        source=_("Our other systems (CRM, mail tool, website)"),
        retention_anchor="created_at",
        retention_note=_("Emptied as soon as the import has run"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register_not_personal(WebhookSubscription, reason="An endpoint, its events and its signing secrets.")
registry.register_not_personal(WebhookAttempt, reason="When, status code and latency; never the payload.")

# The outbox: the identifiers a recipient knows the person by, until delivered
# (then emptied); a dead letter keeps them for staff to replay.
registry.register(
    PersonalData(
        model=WebhookDelivery,
        category="integration_api",
        description=_("Notices to our recipients of your data, until they acknowledge them (Art. 19)"),
        personal_fields=("payload", "contact_ids"),
        not_personal_fields=(
            "subscription", "event", "message_id", "status", "attempts", "next_attempt_at",
            "last_status_code", "created_at", "delivered_at", "request_id", "recipient",
        ),
        purposes=("honour_rights",),
        source=_("Changes to your data"),
        retention_anchor="created_at",
        retention_note=_("Emptied as soon as the recipient acknowledges"),
        erasure=Erasure.KEEP,
        kept_because=_("The notice that tells our recipients of your erasure or correction (Art. 19)."),
    )
)  # fmt: skip
