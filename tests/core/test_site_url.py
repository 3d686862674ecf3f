"""Issue 12 bug 8: ``make run PORT=8101`` kept ``SITE_URL`` at :8000, so tracked links,
post text and CSAT links pointed at another server. ``make run`` exports the address it
serves; the settings read it; links are built from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = "show-site-url: ; @echo $$SITE_URL"


def _make_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT", "HOST"}}
    return {**env, **extra}


def test_make_run_exports_the_address_it_serves():
    def site_url(*args: str, **env: str) -> str:
        out = subprocess.run(
            ["make", "-s", "--eval", SHOW, "show-site-url", *args],
            cwd=ROOT,
            env=_make_env(**env),
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    assert site_url() == "http://127.0.0.1:8000"
    assert site_url("PORT=8101") == "http://127.0.0.1:8101"
    assert site_url("PORT=8101", "HOST=0.0.0.0") == "http://0.0.0.0:8101"
    assert site_url("PORT=8101", SITE_URL="https://crm.example.com") == "https://crm.example.com"


def test_settings_read_the_exported_site_url():
    code = (
        "import django; django.setup();from django.conf import settings; print(settings.SITE_URL)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_make_env(SITE_URL="http://127.0.0.1:8101/", DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "http://127.0.0.1:8101"


def _renderers(**env: str) -> list[str]:
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "print(','.join(settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_make_env(DJANGO_SETTINGS_MODULE="config.settings", **env),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().split(",")


def test_the_browsable_api_is_off_in_production():
    """Issue 12 bug 9: the browsable API's inline styles are blocked by the CSP (4
    console errors a page); production (DEBUG=0) serves JSON only."""
    from cryptography.fernet import Fernet

    production = _renderers(
        DEBUG="0",
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        API_BROWSABLE="",
    )
    assert production == ["rest_framework.renderers.JSONRenderer"]
    assert "core.renderers.BrowsableAPIRenderer" in _renderers(DEBUG="1")


def test_the_browsable_api_pages_alone_allow_inline_styles(client, manager, settings):
    """In development (make run) the browsable API is on; its <style> element and
    style attributes were blocked by the CSP (a console error on the API root). Its
    HTML pages now allow inline styles, never inline script; JSON keeps the strict policy."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_RENDERER_CLASSES": [
            "rest_framework.renderers.JSONRenderer",
            "core.renderers.BrowsableAPIRenderer",
        ],
    }
    client.force_login(manager)
    html = client.get("/api/v1/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert b"<style>" in html.content
    directives = dict(
        d.strip().split(" ", 1) for d in html["Content-Security-Policy"].split(";") if d.strip()
    )
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert "unsafe-inline" not in directives["script-src"]
    # The root describes Momento's API, in the reader's language, not DRF's default.
    assert "The default basic root view" not in html.content.decode()
    spanish = client.get("/api/v1/", HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="es")
    assert "La API REST de Momento" in spanish.content.decode()
    assert client.options("/api/v1/").json()["name"] == "Momento API"

    json = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert "unsafe-inline" not in json["Content-Security-Policy"]
