from __future__ import annotations

from django.urls import path

from . import views

app_name = "staff"
urlpatterns = [
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/enrol/", views.two_factor_enrol, name="two_factor_enrol"),
    path("answers/<int:pk>/", views.access_answer_download, name="access_answer_download"),
]
