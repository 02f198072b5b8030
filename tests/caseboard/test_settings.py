"""Production-safe by default: no DEBUG, no development key, and a server without a key refuses
to start; a laptop's conveniences are asked for (CASEBOARD_LOCAL) and `check --deploy` fails on them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRUBBED = {"SECRET_KEY", "DEBUG", "CASEBOARD_LOCAL", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}


def django(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    clean.update(DJANGO_SETTINGS_MODULE="caseboard.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_server_without_a_secret_key_refuses_to_start_and_says_why():
    done = django("print('started')")
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr and "started" not in done.stdout


def test_debug_is_off_unless_a_developer_turns_it_on():
    done = django("from django.conf import settings; print(settings.DEBUG)", SECRET_KEY="k" * 60)
    assert done.stdout.strip() == "False"
    done = django("from django.conf import settings; print(settings.DEBUG)", CASEBOARD_LOCAL="1")
    assert done.stdout.strip() == "False"  # the laptop's conveniences do not include debug pages


def test_the_laptop_key_is_generated_once_and_kept():
    read = "from django.conf import settings; print(settings.SECRET_KEY)"
    first, second = django(read, CASEBOARD_LOCAL="1"), django(read, CASEBOARD_LOCAL="1")
    assert first.returncode == 0 and first.stdout == second.stdout
    assert first.stdout.startswith("django-insecure-")


def test_check_deploy_fails_on_the_laptop_profile():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in SCRUBBED},
            "DJANGO_SETTINGS_MODULE": "caseboard.settings",
            "CASEBOARD_LOCAL": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "caseboard.E001" in done.stderr + done.stdout and "caseboard.E002" in done.stderr + done.stdout
