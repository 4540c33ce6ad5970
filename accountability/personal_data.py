"""What the accountability registers hold about people, declared for the registry (core.registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.registry import Erasure, PersonalData, registry

from .models import (
    Breach,
    BreachCommunication,
    BreachNotification,
    BreachRevision,
    DashboardFigure,
    Disclosure,
    ProcessingRecordVersion,
    ProcessorActivity,
    Recipient,
)

registry.register(
    PersonalData(
        model=Recipient,
        category="business_contact",
        description=_("Your details as the contact person of one of our processors or other recipients"),
        personal_fields=("contact_name", "contact_email", "contact_phone"),
        not_personal_fields=(
            "code", "name", "kind", "serves", "org_number", "country", "transfer_mechanism",
            "transfer_mechanism_date", "dpa_signed_on", "dpa_document", "dpa_next_review", "categories",
            "purposes", "is_active", "created_at", "updated_at", "reminded_review_for",
        ),
        subject_email_path="contact_email",
        purposes=("contract",),
        source=_("You or your employer, when we entered into the agreement"),
        retention_note=_("While the agreement lasts"),
        # The recipient stays in the register (Art. 30); its contact person goes.
        erasure=Erasure.ANONYMISE,
        anonymise={"contact_name": "", "contact_email": "", "contact_phone": ""},
        rectifiable_fields=("contact_name", "contact_email", "contact_phone"),
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=Disclosure,
        category="disclosure",
        description=_("Each time your data was disclosed to a recipient: who, what, when and why"),
        personal_fields=("contact",),
        # Without the link to the person these describe a disclosure, not someone.
        not_personal_fields=(
            "recipient", "categories", "purpose", "channel", "reason", "disclosed_at", "recorded_by",
        ),
        export_fields=("recipient__name", "categories", "purpose", "channel", "reason", "disclosed_at"),
        subject_email_path="contact__email",
        purposes=("honour_rights",),
        source=_("Our own records of disclosures"),
        retention_note=_("As long as we hold your data; the record stays without you after erasure"),
        # Art. 5(2): the fact of the disclosure is kept, the link to the person goes.
        erasure=Erasure.ANONYMISE,
        anonymise={"contact": None},
    )
)  # fmt: skip

registry.register_not_personal(
    Breach,
    reason="The record of an incident (Art. 33(5)): what happened, to which categories and how many; "
    "the people concerned are not named in it.",
)
registry.register_not_personal(BreachRevision, reason="Earlier versions of a breach record, as above.")
registry.register_not_personal(
    BreachCommunication,
    reason="The message to the people concerned, the same for all; chosen by ids and codes.",
)

registry.register(
    PersonalData(
        model=BreachNotification,
        category="breach_notification",
        description=_("That we told you of a personal data breach, and when"),
        personal_fields=("contact",),
        not_personal_fields=("communication", "language", "sent_at"),
        export_fields=("communication__breach__title", "sent_at"),
        subject_email_path="contact__email",
        purposes=("legal_obligation_security",),
        source=_("Our own records"),
        retention_note=_("As long as the breach record is kept; the record stays without you after erasure"),
        # Art. 5(2): that everyone concerned was told stays provable; the person goes.
        erasure=Erasure.ANONYMISE,
        anonymise={"contact": None},
    )
)

registry.register_not_personal(
    ProcessorActivity, reason="What we process for a customer as its processor (Art. 30(2)); names no one."
)
registry.register_not_personal(
    ProcessingRecordVersion,
    reason="The records of processing (Art. 30): purposes and categories, never people.",
)
registry.register_not_personal(DashboardFigure, reason="Counts for the dashboard; no one in them.")
