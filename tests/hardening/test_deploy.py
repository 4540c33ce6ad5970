"""Found broken 6: `check --deploy` with the documented production settings gives 0 warnings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = subprocess.run(
        [str(ROOT / "bin" / "check-deploy")],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PY": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _production_value(name: str) -> str:
    code = (
        "import django, secrets, os;"
        "os.environ.update(SECRET_KEY=secrets.token_urlsafe(50), HASH_KEY=secrets.token_urlsafe(50),"
        " DEBUG='false');"
        "os.environ['DJANGO_SETTINGS_MODULE']='config.settings.production';"
        f"django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    )
    env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


@pytest.mark.django_db
def test_behind_the_proxy_https_is_enforced_except_for_the_health_check(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = ast.literal_eval(_production_value("SECURE_REDIRECT_EXEMPT"))
    settings.SECURE_PROXY_SSL_HEADER = ast.literal_eval(_production_value("SECURE_PROXY_SSL_HEADER"))
    assert client.get("/portal/").status_code == 301
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/portal/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
