"""Words for the codes the declarations use (core.registry), in the person's language.

Declarations name purposes, recipients and categories by code, so the same
code can be counted, filtered and translated; the access report (Art. 15(1))
shows these words. An unknown code is shown as it is.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

PURPOSES = {
    "contract": _("To fulfil contracts and agreements with customers, partners and suppliers"),
    "service_messages": _("To send you messages about the services you use"),
    "support": _("To give you support and answer your questions"),
    "relationship_management": _("To follow up our customer and business relationship"),
    "marketing": _("To send you marketing, when you have agreed to it"),
    # The consent app's declarations name the catalogue's own code (consent.Purpose.DIRECT_MARKETING).
    "direct_marketing": _("To send you marketing, when you have agreed to it"),
    "job_application": _("To consider your job application"),
    "web_analytics": _("To understand how our website is used and to improve it"),
    "honour_objection": _("To respect your objection or opt-out"),
    "honour_erasure": _("To make sure your erasure lasts"),
    "honour_rights": _("To answer your requests about your data"),
    "handle_data_subject_request": _("To answer your requests about your data"),
    "legal_claims": _("To establish, exercise or defend legal claims"),
    "legal_obligation_security": _("To keep our systems secure and meet our legal obligations"),
}

RECIPIENTS = {
    "hosting_provider": _("Our hosting provider (data processor)"),
    "crm_provider": _("Our customer relationship management provider (data processor)"),
    "email_provider": _("Our email provider (data processor)"),
    "accountant": _("Our accountant"),
    "authorities": _("Public authorities, where the law requires it"),
}

CATEGORIES = {
    "contact": _("Contact details"),
    "interaction": _("Our dealings with you"),
    "job_application": _("Job applications"),
    "web_visit": _("Website visits"),
    "suppression": _("Suppression list"),
    "erasure_journal": _("Erasure journal"),
    "consent": _("Consents"),
    "request": _("Your requests about your data"),
    "data_subject_request": _("Your requests about your data"),
    "legal_hold": _("Legal holds"),
    "audit_trail": _("Audit trail"),
    "staff_login": _("Logins to the administration"),
    "portal_session": _("Visits to the privacy portal"),
    "breach_notification": _("Messages telling you of a personal data breach"),
    "disclosure": _("Who we have shared your data with"),
    "business_contact": _("Contact persons at our suppliers and partners"),
    "integration_api": _("Data our other systems sent or received about you"),
}


def purpose_label(code: str) -> str:
    return str(PURPOSES.get(code, code))


def recipient_label(code: str) -> str:
    return str(RECIPIENTS.get(code, code))


def category_label(code: str) -> str:
    return str(CATEGORIES.get(code, code))
