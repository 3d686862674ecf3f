import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.fields import decrypt, encrypt
from tests.factories import SocialAccountFactory

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 20 + Fernet.generate_key().decode(),
        ALLOWED_HOSTS="crm.example.com",
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/momento",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secrets():
    result = _manage("check", DEBUG="0", SECRET_KEY="", ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_credentials_are_encrypted_at_rest():
    from django.db import connection

    account = SocialAccountFactory(credentials={"app_password": "abcd-efgh-ijkl-mnop"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM crm_socialaccount WHERE id = %s", [account.pk])
        stored = cursor.fetchone()[0]
    assert "abcd-efgh" not in stored
    assert decrypt(stored) == {"app_password": "abcd-efgh-ijkl-mnop"}
    account.refresh_from_db()
    assert account.credentials == {"app_password": "abcd-efgh-ijkl-mnop"}
    assert decrypt(encrypt([1, "ü"])) == [1, "ü"]


@pytest.mark.django_db
def test_admin_never_shows_credentials(client, manager):
    manager.is_superuser = True
    manager.save()
    client.force_login(manager)
    account = SocialAccountFactory(credentials={"access_token": "SECRET-TOKEN-123"})
    html = client.get(f"/admin/crm/socialaccount/{account.pk}/change/").content.decode()
    assert "SECRET-TOKEN-123" not in html
    assert "New credentials" in html
