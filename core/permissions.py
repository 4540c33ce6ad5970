"""The permissions that admin actions, custom admin views and staff downloads check.

An action's effect decides the permission, not the page it is started from: a
staff member who may only *see* a list must not run what changes or removes
(Art. 32: protection against unauthorised alteration; Art. 5(1)(f)). The custom
permissions below have no model of their own; they hang on ``staff.StaffPermission``
so that one migration, in the staff app, holds them all.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

# Effects that no model's add/change/delete/view describes.
PUBLISH_NOTICE = "staff.publish_privacynotice"  # starts the email campaign (Art. 13, 14)
EXPORT_CONTACTS = "staff.export_contact"  # personal data leaves the system as a file
RUN_RETENTION = "staff.run_retention"  # a sweep deletes and anonymises now (Art. 5(1)(e))
DOWNLOAD_ACCESS_ANSWER = "staff.download_access_answer"  # a person's whole file (Art. 15)
DOWNLOAD_APPLICATION_DOCUMENT = "staff.download_applicationdocument"  # an applicant's CV

# codename -> (English name); the verbose names are the admin's group editor's words.
CUSTOM_PERMISSIONS: dict[str, str] = {
    "publish_privacynotice": "Can publish a privacy notice (starts the email campaign)",
    "export_contact": "Can export contacts as a file",
    "run_retention": "Can run a retention sweep now",
    "download_access_answer": "Can download the answer to an access request",
    "download_applicationdocument": "Can download job application documents",
}


def user_may(request: HttpRequest, permission: str, obj: Any = None) -> bool:
    """Whether the staff member behind ``request`` holds ``permission`` ("app.codename")."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm(permission, obj))
