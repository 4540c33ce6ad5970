from __future__ import annotations

from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog
from django.utils.translation import gettext_lazy as _

from core.registry import Erasure, PersonalData, registry

from .models import StaffPermission

registry.register_not_personal(StaffPermission, reason="No rows: only the holder of custom permissions.")

# django-axes keeps who logged in to the admin, and who tried and failed, from which
# address and browser: security records about staff (and about whoever typed a staff
# user name), kept to detect and investigate break-in attempts (Art. 32). They are
# personal data with a period like any other: the retention policy "staff-logins"
# (staff/migrations/0003) lets the nightly sweep remove them through the one engine.
_LOGIN_RECORD = {
    "category": "staff_login",
    "purposes": ("legal_obligation_security",),
    "source": _("Recorded by the system when someone logs in to the administration"),
    "recipients": ("hosting_provider",),
    "retention_anchor": "attempt_time",
    "retention_note": _("As the retention policy for staff logins says (90 days unless changed)."),
    # Never found by a data subject's address: the user name is a staff member's.
    "erasure": Erasure.DELETE,
}
_AXES_COMMON = ("user_agent", "ip_address", "username", "http_accept", "path_info")

registry.register(
    PersonalData(
        model=AccessLog,
        description=_("Successful logins to the administration: user name, address and browser"),
        personal_fields=_AXES_COMMON,
        not_personal_fields=("id", "attempt_time", "logout_time", "session_hash"),
        **_LOGIN_RECORD,
    )
)  # fmt: skip
registry.register(
    PersonalData(
        model=AccessAttempt,
        description=_("Failed logins to the administration, counted for the lockout"),
        personal_fields=(*_AXES_COMMON, "get_data", "post_data"),
        not_personal_fields=("id", "attempt_time", "failures_since_start", "expiration"),
        **_LOGIN_RECORD,
    )
)  # fmt: skip
registry.register(
    PersonalData(
        model=AccessFailureLog,
        description=_("The log of failed logins to the administration"),
        personal_fields=_AXES_COMMON,
        not_personal_fields=("id", "attempt_time", "locked_out"),
        **_LOGIN_RECORD,
    )
)  # fmt: skip
registry.register_not_personal(
    AccessAttemptExpiration, reason="When a counted failed login stops counting; goes with the attempt."
)
