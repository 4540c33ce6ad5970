from __future__ import annotations

from django.urls import path

from . import views

app_name = "requests_dsar"
urlpatterns = [
    path("", views.start, name="start"),
    path("request/", views.request_new, name="request_new"),
    path("request/sent/", views.request_sent, name="request_sent"),
    path("confirm/<str:token>/", views.verify, name="verify"),
    path("s/<str:token>/", views.status_link, name="status_link"),
    path("status/", views.status, name="status"),
    path("download/<str:token>/", views.download, name="download"),
    path("preferences/", views.preferences, name="preferences"),
]
