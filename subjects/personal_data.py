"""What the register holds about people, declared for the registry (core.registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.registry import Erasure, PersonalData, registry

from .models import (
    ApplicationDocument,
    Contact,
    Interaction,
    JobApplication,
    Organisation,
    WebVisit,
)

# An organisation is a legal person; its own details are not personal data.
# The people who represent it are Contacts.
registry.register_not_personal(
    Organisation,
    reason="Details of a company, not of a person; its representatives are Contacts.",
)

registry.register(
    PersonalData(
        model=Contact,
        category="contact",
        description=_("Your name, email, phone, job title, company and where we got them"),
        personal_fields=(
            "name", "email", "phone", "job_title", "organisation", "language",
            "source_type", "source_name", "collected_at", "source_attests_consent",
            "last_interaction_at",
        ),
        not_personal_fields=("email_kind", "created_at", "updated_at"),
        export_fields=(
            "name", "email", "phone", "job_title", "organisation__name", "language",
            "source_type", "source_name", "collected_at", "source_attests_consent",
            "last_interaction_at",
        ),
        subject_email_path="email",
        purposes=("contract", "service_messages", "support", "relationship_management"),
        source=_("You, or the source named in the record"),
        recipients=("hosting_provider", "crm_provider"),
        retention_anchor="last_interaction_at",
        retention_note=_("Three years after your last interaction with us"),
        rectifiable_fields=("name", "email", "phone", "job_title", "language"),
        provided_by_subject=("name", "email", "phone", "job_title", "language"),
        erasure=Erasure.DELETE,
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=Interaction,
        category="interaction",
        description=_("Meetings, calls, emails, documents, support cases and feedback"),
        personal_fields=("contact", "summary", "staff_member"),
        not_personal_fields=("kind", "occurred_at"),
        export_fields=("kind", "occurred_at", "summary"),
        subject_email_path="contact__email",
        purposes=("support", "relationship_management"),
        source=_("Our dealings with you"),
        recipients=("hosting_provider", "crm_provider"),
        retention_anchor="occurred_at",
        retention_note=_("Kept with your contact record"),
        # Counts of interactions per organisation and month are statistics the
        # policy allows once nobody can be identified (Hvor lenge).
        erasure=Erasure.ANONYMISE,
        anonymise={"contact": None, "summary": "", "staff_member": None},
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=JobApplication,
        category="job_application",
        description=_("Your job application"),
        personal_fields=("name", "email", "phone", "position", "submitted_at", "status"),
        not_personal_fields=("decided_at",),
        subject_email_path="email",
        purposes=("job_application",),
        source=_("You, when you applied"),
        recipients=("hosting_provider",),
        retention_anchor="decided_at",
        retention_note=_("Six months after the decision on the application"),
        rectifiable_fields=("name", "email", "phone"),
        provided_by_subject=("name", "email", "phone", "position"),
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=ApplicationDocument,
        category="job_application",
        description=_("Documents you attached to a job application"),
        personal_fields=("application", "file", "title"),
        not_personal_fields=("uploaded_at",),
        export_fields=("title", "uploaded_at", "application__position"),
        subject_email_path="application__email",
        purposes=("job_application",),
        source=_("You, when you applied"),
        recipients=("hosting_provider",),
        retention_anchor="application__decided_at",
        retention_note=_("Six months after the decision on the application"),
        provided_by_subject=("title",),
    )
)  # fmt: skip

registry.register(
    PersonalData(
        model=WebVisit,
        category="web_visit",
        description=_("Your visits to our website: IP address, browser, pages and referrer"),
        personal_fields=("ip_address", "user_agent", "path", "referrer", "visited_at", "contact"),
        export_fields=("ip_address", "user_agent", "path", "referrer", "visited_at"),
        subject_email_path="contact__email",
        purposes=("web_analytics",),
        source=_("Your browser, when you visited our website"),
        recipients=("hosting_provider",),
        retention_anchor="visited_at",
        retention_note=_("90 days"),
    )
)  # fmt: skip
