"""Writes of the request workflow: from submission through verification to the answer.

Every service validates, writes in one transaction, records the step in the
request's history and in the audit trail, and sends email from a Celery task
after commit (so the mail server's speed never shows in a portal response).

The modules are named for what they do; the public names are re-exported here,
so callers import from ``requests_dsar.services`` as before.
"""

from __future__ import annotations

from .base import DETAILS_MAX_LENGTH, request_subject_emails
from .expiry import (
    request_history_ips_expire,
    requests_answer_files_expire,
    requests_unconfirmed_purge,
)
from .fulfilment import HANDLERS, Completion, erasure_summary, request_answer_attach, request_complete
from .mail import request_email_deliver, request_email_failed, request_email_queue
from .portal import (
    Submission,
    request_download,
    request_download_link_send,
    request_submit,
    request_verify,
    request_withdraw,
)
from .redaction import request_redact
from .reminders import requests_remind
from .tokens import link_lifetime, request_link_check, request_token_issue
from .workflow import (
    recipient_notice_mark_told,
    request_assign,
    request_extend,
    request_match_confirm,
    request_message,
    request_refuse,
    request_verify_manually,
    restriction_lift,
)

__all__ = [
    "DETAILS_MAX_LENGTH",
    "HANDLERS",
    "Completion",
    "Submission",
    "erasure_summary",
    "link_lifetime",
    "recipient_notice_mark_told",
    "request_answer_attach",
    "request_assign",
    "request_complete",
    "request_download",
    "request_download_link_send",
    "request_email_deliver",
    "request_email_failed",
    "request_email_queue",
    "request_extend",
    "request_history_ips_expire",
    "request_link_check",
    "request_match_confirm",
    "request_message",
    "request_redact",
    "request_refuse",
    "request_subject_emails",
    "request_submit",
    "request_token_issue",
    "request_verify",
    "request_verify_manually",
    "request_withdraw",
    "requests_answer_files_expire",
    "requests_remind",
    "requests_unconfirmed_purge",
    "restriction_lift",
]
