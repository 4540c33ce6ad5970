"""Writes of the consent app, one module per part; the public names are re-exported here.

- ``ledger``: the one way a consent state moves (grant, withdraw)
- ``objections``: Art. 21 objections and compelling grounds
- ``record``: the door for other systems (API, imports)
- ``signups``: web sign-ups kept apart until confirmed (double opt-in)
- ``links``: one-click unsubscribe links and the link errors
- ``receipts``: consent receipts (Kantara v1.1)
- ``suppression``: the suppression list
- ``marketing``: Marketing Control Act § 15(2) and campaign clearances
- ``purposes``: purposes and legitimate-interest assessments
- ``notices``: privacy notices and their mailings (Art. 12-14)
- ``decisions``: the stored decision of the consent check, kept with what changes it
- ``evidence`` and ``common``: what the others share
"""

from __future__ import annotations

from .common import CONTROLLER
from .decisions import decisions_refresh, decisions_refresh_for_email
from .evidence import RECORDED_FOR_THE_PERSON, SELF_SERVICE_CHANNELS
from .ledger import consent_grant, consent_withdraw
from .links import (
    UNSUBSCRIBE_SALT,
    ExpiredLink,
    InvalidLink,
    unsubscribe_apply,
    unsubscribe_headers,
    unsubscribe_read,
    unsubscribe_token,
    unsubscribe_url,
)
from .marketing import consent_clearances_record, customer_address_record
from .notices import art14_notices_send, notice_campaign_batch, notice_create, notice_publish, notice_update
from .objections import objection_grounds_record, objection_record, objection_request_apply
from .purposes import assessment_record, assessment_update, purpose_create, purpose_update
from .receipts import consent_receipt, consent_receipts_for_email
from .record import consent_record
from .signups import consent_confirmations_expire, signup_confirm, signup_confirmation_send, signup_create
from .suppression import suppression_add

__all__ = [
    "CONTROLLER",
    "RECORDED_FOR_THE_PERSON",
    "SELF_SERVICE_CHANNELS",
    "UNSUBSCRIBE_SALT",
    "ExpiredLink",
    "InvalidLink",
    "art14_notices_send",
    "assessment_record",
    "assessment_update",
    "consent_clearances_record",
    "consent_confirmations_expire",
    "consent_grant",
    "consent_receipt",
    "consent_receipts_for_email",
    "consent_record",
    "consent_withdraw",
    "customer_address_record",
    "decisions_refresh",
    "decisions_refresh_for_email",
    "notice_campaign_batch",
    "notice_create",
    "notice_publish",
    "notice_update",
    "objection_grounds_record",
    "objection_record",
    "objection_request_apply",
    "purpose_create",
    "purpose_update",
    "signup_confirm",
    "signup_confirmation_send",
    "signup_create",
    "suppression_add",
    "unsubscribe_apply",
    "unsubscribe_headers",
    "unsubscribe_read",
    "unsubscribe_token",
    "unsubscribe_url",
]
