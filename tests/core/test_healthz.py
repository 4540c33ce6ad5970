from __future__ import annotations

import pytest

from config.celery_app import app as celery_app

pytestmark = pytest.mark.django_db


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
