from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="swagger"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("v1/consent/check", views.ConsentCheckView.as_view(), name="consent_check"),
    path("v1/consent/events", views.ConsentEventView.as_view(), name="consent_events"),
    path("v1/contacts", views.ContactUpsertView.as_view(), name="contacts"),
    path("v1/imports", views.ImportCreateView.as_view(), name="imports"),
    path("v1/imports/<int:job_id>", views.ImportDetailView.as_view(), name="import_detail"),
    path("v1/interactions", views.InteractionView.as_view(), name="interactions"),
    path("v1/suppression/check", views.SuppressionCheckView.as_view(), name="suppression_check"),
    path("v1/requests", views.RequestFileView.as_view(), name="requests"),
    path("v1/requests/<str:reference>", views.RequestDetailView.as_view(), name="request_detail"),
    path("v1/webhooks", views.WebhookSubscriptionsView.as_view(), name="webhooks"),
    path(
        "v1/webhooks/<int:subscription_id>",
        views.WebhookSubscriptionDetailView.as_view(),
        name="webhook_detail",
    ),
    # Anything else under /api/ is a problem document too, never the site's HTML 404.
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not_found"),
]
