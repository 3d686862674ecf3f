"""The admin connects accounts through the same service: it logs in first, stores
nothing that the network refused, and never shows stored credentials."""

import json

import pytest

from crm.models import SocialAccount
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

SECRET = "admin-secret-never-shown"


def _add(client, **overrides):
    data = {
        "network": "mastodon",
        "kind": "brand",
        "handle": "brand",
        "base_url": "http://127.0.0.1:9",
        "credentials": json.dumps({"access_token": SECRET}),
    }
    data.update(overrides)
    return client.post("/admin/crm/socialaccount/add/", data)


def test_admin_add_form_asks_for_credentials_not_stored_fields(client, manager):
    client.force_login(manager)
    html = client.get("/admin/crm/socialaccount/add/").content.decode()
    assert 'name="credentials"' in html
    for stored in ("cursors", "state", "items_synced", "external_id"):
        assert f'name="{stored}"' not in html


def test_admin_add_form_refuses_bad_input(client, manager):
    client.force_login(manager)
    response = _add(client, credentials='{"app_password": "x"}')
    assert response.status_code == 200
    html = response.content.decode()
    assert "Missing: access_token." in html and "Not used by Mastodon: app_password." in html
    response = _add(client, kind="personal")
    assert "belongs to a staff member" in response.content.decode()
    assert SECRET not in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_admin_add_form_refuses_an_unreachable_server(client, manager):
    """Port 9 (discard) is closed on loopback: the login fails, nothing is stored."""
    client.force_login(manager)
    response = _add(client)
    assert response.status_code == 200
    assert "The server could not be reached" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_admin_change_form_never_shows_credentials(client, manager):
    client.force_login(manager)
    account = SocialAccountFactory(credentials={"app_password": SECRET})
    html = client.get(f"/admin/crm/socialaccount/{account.pk}/change/").content.decode()
    assert SECRET not in html
    assert 'name="new_credentials"' in html
    response = client.post(
        f"/admin/crm/socialaccount/{account.pk}/change/",
        {
            "network": "bluesky",
            "kind": "brand",
            "handle": account.handle,
            "base_url": account.base_url,
            "state": "paused",
            "new_credentials": "",
            "failures-TOTAL_FORMS": "0",
            "failures-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.state == "paused"
    assert account.credentials == {"app_password": SECRET}  # kept


def test_outbox_admin_is_read_only(client, manager):
    client.force_login(manager)
    assert client.get("/admin/crm/outboundmessage/").status_code == 200
    assert client.get("/admin/crm/outboundmessage/add/").status_code == 403
