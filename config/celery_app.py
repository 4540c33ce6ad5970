"""The Celery app. Tasks are found in each installed app's tasks.py."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("personvern")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
