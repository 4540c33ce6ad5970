from __future__ import annotations

from django.urls import path

from . import views

app_name = "subjects"
urlpatterns = [
    path("documents/<int:pk>/", views.application_document, name="application_document"),
]
