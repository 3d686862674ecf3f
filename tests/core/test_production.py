"""The README's production steps, run as written: ``migrate``, ``collectstatic`` with
the production (manifest) storage into a fresh folder, ``check --deploy``, then
gunicorn with ``DEBUG=0`` on loopback serving the login page, a contact page and the
hashed static files they link to (WhiteNoise, from ``collectstatic``'s output)."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.factories import ContactFactory, UserFactory

ROOT = Path(settings.BASE_DIR)
MAP_COMMENT = re.compile(rb"[#@] sourceMappingURL=([^\s*]+)")


def test_no_vendored_file_points_at_a_missing_source_map():
    """The manifest storage follows these comments; a missing map fails collectstatic."""
    missing = []
    for path in (ROOT / "static").rglob("*"):
        if path.suffix in {".js", ".css"}:
            for target in MAP_COMMENT.findall(path.read_bytes()):
                if not (path.parent / target.decode()).exists():
                    missing.append(f"{path.relative_to(ROOT)} -> {target.decode()}")
    assert missing == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production_env(static_root: Path) -> dict[str, str]:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "BEHIND_TLS_PROXY": "1",
        "DATABASE_URL": (
            f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "STATIC_ROOT": str(static_root),
        "MOMENTO_VAR_DIR": str(static_root.parent / "var"),
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


def _cookies(response: requests.Response, jar: dict[str, str]) -> dict[str, str]:
    """Secure cookies as a browser behind TLS would send them back (requests keeps them
    off plain HTTP, and the TLS proxy is simulated by ``X-Forwarded-Proto``)."""
    for history in [*response.history, response]:
        jar.update(history.cookies.get_dict())
    return jar


@pytest.mark.django_db(transaction=True)
def test_readme_production_steps_serve_pages_and_static_files(tmp_path):
    staff = UserFactory(username="prod-manager", role="Manager")
    staff.password = PBKDF2PasswordHasher().encode("a long production password", "saltsalt1234")
    staff.save(update_fields=["password"])
    contact = ContactFactory(display_name="Production Person")
    static_root = tmp_path / "staticfiles"
    env = _production_env(static_root)

    _manage(env, "migrate", "--noinput")
    collected = _manage(env, "collectstatic", "--noinput")
    assert "post-processed" in collected.stdout
    assert (static_root / "staticfiles.json").exists()
    deploy = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert "no issues" in deploy.stdout

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    proxy = {"X-Forwarded-Proto": "https"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                login = requests.get(f"{base}/accounts/login/", headers=proxy, timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stdout.read().decode()[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert login.status_code == 200
        assert "Strict-Transport-Security" in login.headers
        statics = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', login.text))
        assert statics, login.text[:2000]
        for path in statics:
            # Manifest names: file.<12 hex>.ext, served by WhiteNoise with a long cache.
            assert re.search(r"\.[0-9a-f]{12}\.", path), path
            asset = requests.get(base + path, headers=proxy, timeout=5)
            assert asset.status_code == 200, path
            assert asset.content and "immutable" in asset.headers.get("Cache-Control", "")

        jar = _cookies(login, {})
        signed_in = requests.post(
            f"{base}/accounts/login/",
            data={
                "username": "prod-manager",
                "password": "a long production password",
                "csrfmiddlewaretoken": re.search(
                    r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text
                ).group(1),
            },
            headers={**proxy, "Origin": f"https://127.0.0.1:{port}"},
            cookies=jar,
            allow_redirects=False,
            timeout=10,
        )
        assert signed_in.status_code == 302, signed_in.text[:2000]
        _cookies(signed_in, jar)
        page = requests.get(
            f"{base}/contacts/{contact.pk}/", headers=proxy, cookies=jar, timeout=10
        )
        assert page.status_code == 200, page.text[:2000]
        assert "Production Person" in page.text
        for path in set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)):
            assert requests.get(base + path, headers=proxy, timeout=5).status_code == 200, path
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
