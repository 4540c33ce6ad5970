from __future__ import annotations

from django.urls import path

from . import views

app_name = "consent"
urlpatterns = [
    # The stable address of the notice in force, and each version's own page.
    path("personvern/", views.notice_current, name="notice"),
    path("personvern/versjon/<str:version>/", views.notice_version, name="notice_version"),
    path("consent/subscribe/", views.subscribe, name="subscribe"),
    path("consent/confirm/<str:token>/", views.confirm, name="confirm"),
    path("consent/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("consent/receipts/", views.receipts, name="receipts"),
]
