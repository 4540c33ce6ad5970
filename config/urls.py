from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from core.views import healthz, language_switch

admin.site.site_header = _("Personvern")
admin.site.site_title = _("Personvern")
admin.site.index_title = _("Personal data management")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The language links of every public page (a link, so no page needs a CSRF cookie for it).
    path("language/<str:code>/", language_switch, name="language_switch"),
    # staff-roles: staff downloads (and, later, the two-factor login).
    path("staff/", include("staff.urls")),
    path("admin/", admin.site.urls),
    path("register/", include("subjects.urls")),
    path("portal/", include("requests_dsar.urls")),
    # --- api: the integration API (/api/v1/), its schema and documentation ---
    path("api/", include("api.urls")),
    # The privacy notice (personvern/) and the consent links (consent/).
    path("", include("consent.urls")),
    path("", include("core.urls")),
]
