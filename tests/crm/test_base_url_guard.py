"""A Manager cannot point an account's server URL at internal addresses (SSRF), and
an error never shows what a remote server answered."""

from __future__ import annotations

import http.server
import threading

import pytest

from crm.models import SocialAccount
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

INTERNAL = [
    "http://127.0.0.1:8000",
    "http://localhost:6379",
    "http://10.0.0.5",
    "http://192.168.1.1",
    "http://172.16.0.1",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:5432",
    "http://[::ffff:127.0.0.1]",
    "http://0.0.0.0",
    "http://100.64.0.1",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_server_urls_are_refused(manager, settings, url, monkeypatch):
    settings.MOMENTO_ALLOW_PRIVATE_NETWORKS = False
    from crm.networks import adapter_class

    called = []
    monkeypatch.setattr(
        adapter_class("mastodon"), "from_credentials", lambda **kw: called.append(kw)
    )
    response = api_as(manager).post(
        "/api/v1/social-accounts/",
        {
            "network": "mastodon",
            "kind": "brand",
            "handle": "brand",
            "base_url": url,
            "credentials": {"access_token": "t"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "private or local network" in response.json()["base_url"][0]
    assert called == []  # nothing was requested
    assert not SocialAccount.objects.exists()


class _Leaky(http.server.BaseHTTPRequestHandler):
    status = 422

    def do_GET(self):
        body = b'{"error": "INTERNAL-SECRET-TOKEN root:x:0:0"}'
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status", [401, 403, 404, 422, 500, 503])
def test_an_error_never_echoes_the_remote_body(manager, status):
    """(Local peers allowed, as in tests.) A server that answers with an internal page
    gets a plain reason, not its words."""
    handler = type("Leaky", (_Leaky,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = api_as(manager).post(
            "/api/v1/social-accounts/",
            {
                "network": "mastodon",
                "kind": "brand",
                "handle": "brand",
                "base_url": f"http://127.0.0.1:{server.server_address[1]}",
                "credentials": {"access_token": "t"},
            },
            format="json",
        )
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 400
    assert "INTERNAL-SECRET" not in response.content.decode()
    assert "root:x" not in response.content.decode()
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize("network", ["linkedin", "youtube", "instagram", "facebook"])
def test_a_base_url_given_for_a_network_with_one_api_is_checked_too(manager, settings, network):
    """Those adapters send their requests (and tokens) to a base URL when one is given."""
    from crm.services import socialaccount_verify

    settings.MOMENTO_ALLOW_PRIVATE_NETWORKS = False
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        socialaccount_verify(
            network=network,
            handle="momento",
            base_url="http://169.254.169.254/latest/meta-data",
            credentials={},
        )
    assert "base_url" in refused.value.message_dict
