from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.celery_app import app as celery_app

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_it_answers_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok" and response.json()["broker"] == "ok"


def test_it_answers_503_when_the_broker_does_not(client, monkeypatch):
    # A real broker that is down: nothing listens on port 1.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        **response.json(),
        "status": "unavailable",
        "broker": "down",
        "database": "ok",
    }


def test_it_answers_503_when_the_database_does_not():
    # A real database that is down: a separate process whose DATABASE_URL points
    # at a port where nothing listens.
    script = (
        "import django, json; django.setup();"
        "from django.test.utils import setup_test_environment; setup_test_environment();"
        "from django.test import Client; r = Client().get('/healthz');"
        "print(r.status_code, json.dumps(r.json()))"
    )
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/none", "REDIS_URL": ""}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503"
    assert json.loads(body)["database"] == "down"
