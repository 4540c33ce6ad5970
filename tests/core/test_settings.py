from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG = "k" * 40


def _start(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "HASH_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"HASH_KEY": "h" * 40}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short", "HASH_KEY": "h" * 40}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": STRONG}, "HASH_KEY must be set"),
        ({"SECRET_KEY": STRONG, "HASH_KEY": STRONG}, "unlike SECRET_KEY"),
        ({"SECRET_KEY": STRONG, "HASH_KEY": "h" * 40, "DEBUG": "true"}, "DEBUG must be off"),
    ],
)
def test_production_refuses_to_start_with_weak_settings(env, complaint):
    result = _start(**env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_starts_with_real_keys():
    result = _start(SECRET_KEY=STRONG, HASH_KEY="h" * 40)
    assert result.returncode == 0, result.stderr
