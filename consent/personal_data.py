"""What the consent app holds about people, declared for the registry (core.registry)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.crypto import email_hash
from core.registry import Erasure, PersonalData, registry

from .models import (
    ConsentConfirmation,
    ConsentDecision,
    ConsentEvent,
    ConsentState,
    ConsentWording,
    CustomerAddressRecord,
    InformationNotice,
    LegitimateInterestAssessment,
    MarketingClearance,
    NoticeNotification,
    PendingSignup,
    PrivacyNotice,
    Purpose,
    SuppressionEntry,
)

registry.register_not_personal(Purpose, reason="The catalogue of purposes and their legal bases.")
registry.register_not_personal(PrivacyNotice, reason="The published privacy notice, the same for everyone.")
registry.register_not_personal(
    ConsentWording, reason="The text of a consent form, the same for everyone who saw it."
)
registry.register_not_personal(
    LegitimateInterestAssessment,
    reason="A balancing test about a purpose; the reviewer is a staff member acting in their role.",
)


def _ledger_rows(emails: list[str]) -> QuerySet[ConsentEvent]:
    # ``erasable()``: the registry's erasure (Art. 17) may delete these rows;
    # the ledger refuses every other delete (see ConsentEventQuerySet and migration 0003).
    return ConsentEvent.objects.erasable().filter(contact__email__in=emails)


registry.register(
    PersonalData(
        model=ConsentEvent,
        category="consent",
        description=_("Every consent you gave or withdrew, and every objection, with its evidence"),
        personal_fields=(
            "receipt_id", "contact", "purpose", "action", "occurred_at", "channel", "notice", "wording",
            "ip_address", "user_agent", "reference",
        ),
        not_personal_fields=("actor_kind", "actor_id", "authority"),
        export_fields=(
            "receipt_id", "purpose__code", "action", "occurred_at", "channel", "notice__version",
            "wording__text", "ip_address", "user_agent", "reference",
        ),
        subject_email_path="contact__email",
        find_rows=_ledger_rows,
        purposes=("direct_marketing", "honour_objection"),
        source=_("You, when you gave, confirmed or withdrew consent or objected"),
        recipients=("hosting_provider",),
        retention_note=_("As long as we hold your contact record: it proves your consents (Art. 7(1))"),
        provided_by_subject=("purpose", "action", "occurred_at", "channel"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=ConsentState,
        category="consent",
        description=_("Your current choice per purpose, derived from the consent history"),
        personal_fields=("contact", "purpose", "state", "channel", "changed_at", "last_event_id"),
        export_fields=("purpose__code", "state", "channel", "changed_at"),
        subject_email_path="contact__email",
        purposes=("direct_marketing", "honour_objection"),
        source=_("Derived from your consent history"),
        recipients=("hosting_provider",),
        retention_note=_("As long as we hold your contact record"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=ConsentDecision,
        category="consent",
        description=_("Whether we may send you each kind of marketing now, and on which basis"),
        personal_fields=("contact", "purpose", "email", "basis", "until"),
        export_fields=("purpose__code", "basis", "until"),
        subject_email_path="contact__email",
        purposes=("direct_marketing", "honour_objection"),
        source=_("Derived from your consent history and your choices"),
        recipients=("hosting_provider",),
        retention_note=_("As long as we hold your contact record"),
        erasure=Erasure.DELETE,
    )
)

registry.register(
    PersonalData(
        model=ConsentConfirmation,
        category="consent",
        description=_("Sign-ups waiting for you to confirm them by email"),
        personal_fields=(
            "contact", "purpose", "token_digest", "requested_at", "expires_at", "confirmed_at", "expired_at",
        ),
        export_fields=("purpose__code", "requested_at", "expires_at", "confirmed_at", "expired_at"),
        subject_email_path="contact__email",
        purposes=("direct_marketing",),
        source=_("You, when you signed up on our website"),
        recipients=("hosting_provider",),
        retention_note=_("As long as we hold your contact record"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=PendingSignup,
        category="consent",
        description=_("A sign-up on our website waiting for you to confirm it by email"),
        personal_fields=(
            "email", "name", "language", "topics", "notice", "ip_address", "user_agent", "reference",
            "token_digest", "requested_at", "expires_at", "confirmed_at",
        ),
        export_fields=("email", "name", "topics", "requested_at", "expires_at", "ip_address", "user_agent"),
        subject_email_path="email",
        purposes=("direct_marketing",),
        source=_("Someone who typed your address into our sign-up form"),
        recipients=("hosting_provider", "email_provider"),
        # Removed through core.removal when confirmed (signup_confirm), or by
        # consent.tasks.consent_confirmations_expire when the window closes.
        retention_note=_("Deleted when the confirmation window closes (CONSENT_CONFIRMATION_DAYS), "
                         "or when confirmed"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=CustomerAddressRecord,
        category="consent",
        description=_("That we got your address in a sale, and offered you an opt-out then"),
        personal_fields=("contact", "sale_reference", "obtained_at", "opt_out_offered", "created_at"),
        export_fields=("sale_reference", "obtained_at", "opt_out_offered"),
        subject_email_path="contact__email",
        purposes=("direct_marketing",),
        source=_("The sale in which you gave us your address"),
        recipients=("hosting_provider",),
        retention_note=_("As long as we hold your contact record"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=MarketingClearance,
        category="consent",
        description=_("Which basis allowed us to send you each marketing campaign"),
        personal_fields=("contact", "purpose", "basis", "reference", "checked_at"),
        export_fields=("purpose__code", "basis", "reference", "checked_at"),
        subject_email_path="contact__email",
        purposes=("direct_marketing",),
        source=_("Our check before a campaign was sent"),
        recipients=("hosting_provider",),
        retention_note=_("As long as we hold your contact record"),
        erasure=Erasure.DELETE,
    )
)

registry.register(
    PersonalData(
        model=NoticeNotification,
        category="consent",
        description=_("When we told you about a change of our privacy notice"),
        personal_fields=("notice", "contact", "language", "sent_at"),
        export_fields=("notice__version", "language", "sent_at"),
        subject_email_path="contact__email",
        purposes=("honour_rights",),
        source=_("Our mailing about the change"),
        recipients=("hosting_provider", "email_provider"),
        retention_note=_("As long as we hold your contact record"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=InformationNotice,
        category="consent",
        description=_("When we told you that we had your data from someone else (Art. 14)"),
        personal_fields=("contact", "notice", "language", "sent_at", "late"),
        export_fields=("notice__version", "language", "sent_at", "late"),
        subject_email_path="contact__email",
        purposes=("honour_rights",),
        source=_("Our notice to you"),
        recipients=("hosting_provider", "email_provider"),
        retention_note=_("As long as we hold your contact record"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=SuppressionEntry,
        category="suppression",
        description=_("A keyed hash of your address, so that we never contact you again"),
        personal_fields=("email_hash",),
        not_personal_fields=("reason", "created_at"),
        # Found by hashing the address, not by the address itself.
        find_rows=lambda emails: SuppressionEntry.objects.filter(
            email_hash__in=[email_hash(e, purpose=SuppressionEntry.SUPPRESSION_PURPOSE) for e in emails]
        ),
        purposes=("honour_objection",),
        source=_("Your opt-out, objection or erasure request"),
        erasure=Erasure.KEEP,
        kept_because=_(
            "Kept after erasure so that a later import cannot subscribe you again (Art. 21(3) and 17)."
        ),
    )
)
