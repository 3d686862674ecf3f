"""Connecting accounts against real peers on loopback: mastodon_mock and the local
Bluesky network. A good credential is stored (encrypted) with the id the network
reports; a wrong one or an unreachable server is a 400 and stores nothing."""

import json
import socket

import pytest

from crm.models import SocialAccount
from tests.conftest import api_as
from tests.crm.helpers import connect_mastodon

pytestmark = [pytest.mark.django_db, pytest.mark.peers]

#: The change form's (empty) inline of failed items.
NO_FAILURES = {"failures-TOTAL_FORMS": "0", "failures-INITIAL_FORMS": "0"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _mastodon(server, token, **overrides):
    return {
        "network": "mastodon",
        "kind": "brand",
        "handle": "alice",
        "base_url": server.base_url,
        "credentials": {"access_token": token},
        **overrides,
    }


def test_connect_mastodon_through_the_api(mastodon_server, manager):
    client = api_as(manager)
    token = mastodon_server.tokens["alice"]

    bad = client.post(
        "/api/v1/social-accounts/", _mastodon(mastodon_server, "wrong-token"), format="json"
    )
    assert bad.status_code == 400
    assert "rejected these credentials" in bad.json()["credentials"][0]
    assert not SocialAccount.objects.exists()

    unreachable = _mastodon(mastodon_server, token, base_url=f"http://127.0.0.1:{_closed_port()}")
    response = client.post("/api/v1/social-accounts/", unreachable, format="json")
    assert response.status_code == 400
    assert "could not be reached" in response.json()["base_url"][0]
    assert not SocialAccount.objects.exists()

    response = client.post(
        "/api/v1/social-accounts/", _mastodon(mastodon_server, token), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "credentials" not in body and token not in response.content.decode()
    account = SocialAccount.objects.get()
    port = mastodon_server.base_url.rsplit(":", 1)[1]
    assert body["id"] == account.pk and body["state"] == "active"
    # The id and handle the instance reports (mastodon_mock calls itself localhost).
    assert account.external_id == account.handle == f"alice@localhost:{port}"
    assert account.credentials == {"access_token": token}
    assert token not in SocialAccount.objects.values_list("credentials", flat=True).get()

    again = client.post(
        "/api/v1/social-accounts/", _mastodon(mastodon_server, token), format="json"
    )
    assert again.status_code == 400 and "already connected" in again.json()["handle"][0]
    assert SocialAccount.objects.count() == 1


def test_connect_syncs_and_backfills_after_commit(
    mastodon_server, manager, django_capture_on_commit_callbacks
):
    """Nothing runs before the account is committed; then its one task runs (Celery is
    eager in tests): the first sync, then the backfill, bringing in what is there."""
    mastodon_server.client("carol").status_post("@bob hello from carol")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        account = connect_mastodon(
            mastodon_server, "bob", kind="personal", user=manager, actor=manager
        )
    assert account.user == manager and account.kind == "personal"
    assert account.backfill_state == "queued" and account.last_synced_at is None
    assert len(callbacks) == 1  # one chain: the first sync is the backfill's first step
    for callback in callbacks:
        callback()
    account.refresh_from_db()
    assert account.last_synced_at is not None and account.state == "active"
    assert account.backfill_state == "done"
    entry = account.entries.get()
    assert entry.kind == "mention" and entry.text.endswith("hello from carol")
    assert entry.identity.handle.startswith("carol@")


def test_connect_bluesky_on_the_local_network(bsky, manager):
    me = bsky.create_account("brandui")
    client = api_as(manager)
    payload = {
        "network": "bluesky",
        "kind": "brand",
        "handle": me.handle,
        "base_url": bsky.pds_url,
        "credentials": {"app_password": "wrong-wrong-wrong-wrong"},
    }
    bad = client.post("/api/v1/social-accounts/", payload, format="json")
    assert bad.status_code == 400
    assert "rejected these credentials" in bad.json()["credentials"][0]
    assert not SocialAccount.objects.exists()

    payload["credentials"] = {"app_password": me.app_password}
    response = client.post("/api/v1/social-accounts/", payload, format="json")
    assert response.status_code == 201, response.json()
    account = SocialAccount.objects.get()
    assert account.external_id == me.did and account.handle == me.handle
    assert me.app_password not in response.content.decode()


def test_connect_page_for_managers(client, mastodon_server, manager):
    client.force_login(manager)
    form = {
        "network": "mastodon",
        "kind": "brand",
        "handle": "carol",
        "base_url": mastodon_server.base_url,
        "access_token": "not-carols-token",
    }
    response = client.post("/social-accounts/connect/", form, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "rejected these credentials" in html and "not-carols-token" not in html
    assert not SocialAccount.objects.exists()

    form["access_token"] = mastodon_server.tokens["carol"]
    response = client.post("/social-accounts/connect/", form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/social-accounts/"
    page = client.get("/social-accounts/").content.decode()
    assert "is connected" in page and "@carol@" in page


def test_admin_connects_with_a_login(client, mastodon_server, manager):
    client.force_login(manager)
    data = {
        "network": "mastodon",
        "kind": "brand",
        "handle": "alice",
        "base_url": mastodon_server.base_url,
        "credentials": '{"access_token": "bad"}',
    }
    response = client.post("/admin/crm/socialaccount/add/", data)
    assert response.status_code == 200
    assert "rejected these credentials" in response.content.decode()
    assert not SocialAccount.objects.exists()

    token = mastodon_server.tokens["alice"]
    data["credentials"] = json.dumps({"access_token": token})
    response = client.post("/admin/crm/socialaccount/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    account = SocialAccount.objects.get()
    assert account.credentials == {"access_token": token}
    assert account.external_id.startswith("alice@")
    html = client.get(f"/admin/crm/socialaccount/{account.pk}/change/").content.decode()
    assert token not in html

    # New credentials on the change form are checked the same way.
    change = {
        "network": "mastodon",
        "kind": "brand",
        "handle": account.handle,
        "base_url": account.base_url,
        "state": "needs_reconnect",
        "new_credentials": '{"access_token": "stolen"}',
        **NO_FAILURES,
    }
    response = client.post(f"/admin/crm/socialaccount/{account.pk}/change/", change)
    assert response.status_code == 200
    assert "rejected these credentials" in response.content.decode()
    change["new_credentials"] = json.dumps({"access_token": token})
    response = client.post(f"/admin/crm/socialaccount/{account.pk}/change/", change)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.state == "active" and account.credentials == {"access_token": token}
