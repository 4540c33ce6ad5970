from __future__ import annotations

from django.urls import path

from . import views

app_name = "staff"
urlpatterns = [
    path("answers/<int:pk>/", views.access_answer_download, name="access_answer_download"),
]
