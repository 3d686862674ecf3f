"""Social accounts: what is refused before any network is asked, what the API and pages
show (never the credentials), pause/resume and permissions. Logging in to real peers:
test_accounts_peers.py."""

import pytest

from crm.models import SocialAccount, SyncFailure
from crm.selectors import socialaccount_backfill_percent
from tests.conftest import api_as
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-token-never-shown"


def _payload(**overrides):
    payload = {
        "network": "mastodon",
        "kind": "brand",
        "handle": "brand",
        "base_url": "http://127.0.0.1:9",
        "credentials": {"access_token": SECRET},
    }
    payload.update(overrides)
    return payload


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"credentials": {}}, "credentials", "Missing: access_token"),
        ({"credentials": {"access_token": "  "}}, "credentials", "Missing: access_token"),
        (
            {"credentials": {"access_token": "t", "app_password": "p"}},
            "credentials",
            "Not used by Mastodon: app_password",
        ),
        (
            {"network": "x", "credentials": {"access_token": "t"}},
            "credentials",
            "Missing: access_token_secret, bearer_token, consumer_key, consumer_secret",
        ),
        (
            {"network": "bluesky", "credentials": {"access_token": "t"}},
            "credentials",
            "Missing: app_password",
        ),
        ({"base_url": ""}, "base_url", "Enter the server's URL"),
        ({"kind": "personal"}, "user", "belongs to a staff member"),
        ({"handle": "@"}, "handle", "Enter the account's handle"),
        ({"network": "myspace"}, "network", ""),
    ],
)
def test_connect_refuses_bad_input_before_asking_the_network(manager, overrides, field, text):
    response = api_as(manager).post(
        "/api/v1/social-accounts/", _payload(**overrides), format="json"
    )
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert text in " ".join(errors[field])
    assert not SocialAccount.objects.exists()


def test_connect_refuses_a_connected_handle(manager):
    SocialAccountFactory(network="mastodon", handle="Brand")
    response = api_as(manager).post("/api/v1/social-accounts/", _payload(), format="json")
    assert response.status_code == 400
    assert "already connected" in response.json()["handle"][0]
    assert SocialAccount.objects.count() == 1


def test_api_shows_state_and_never_credentials(support, django_assert_max_num_queries):
    account = SocialAccountFactory(
        credentials={"app_password": SECRET},
        state="error",
        last_error="Bluesky did not answer",
        items_synced=42,
        items_failed=1,
    )
    client = api_as(support)
    client.get("/api/v1/social-accounts/")
    SocialAccountFactory.create_batch(3, credentials={"app_password": SECRET})
    with django_assert_max_num_queries(5):
        listing = client.get("/api/v1/social-accounts/")
    assert listing.status_code == 200 and len(listing.json()["results"]) == 4
    detail = client.get(f"/api/v1/social-accounts/{account.pk}/").json()
    assert detail["state"] == "error"
    assert detail["last_error"] == "Bluesky did not answer"
    assert detail["items_synced"] == 42 and detail["items_failed"] == 1
    assert "credentials" not in detail
    assert SECRET not in listing.content.decode()
    raw = SocialAccount.objects.values_list("credentials", flat=True).get(pk=account.pk)
    assert SECRET not in raw  # encrypted at rest


def test_pause_and_resume(manager):
    account = SocialAccountFactory()
    client = api_as(manager)
    paused = client.post(f"/api/v1/social-accounts/{account.pk}/pause/")
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    resumed = client.post(f"/api/v1/social-accounts/{account.pk}/resume/")
    assert resumed.status_code == 200 and resumed.json()["state"] == "active"
    SocialAccount.objects.filter(pk=account.pk).update(state="needs_reconnect")
    refused = client.post(f"/api/v1/social-accounts/{account.pk}/resume/")
    assert refused.status_code == 400 and "reconnect" in refused.json()["state"][0]


def test_account_permissions(api, sales, support, manager, outsider):
    account = SocialAccountFactory()
    for path in ("/api/v1/social-accounts/", f"/api/v1/social-accounts/{account.pk}/"):
        assert api.get(path).status_code == 401
    assert api.post("/api/v1/social-accounts/", _payload(), format="json").status_code == 401
    assert api.post(f"/api/v1/social-accounts/{account.pk}/sync/").status_code == 401
    for user in (sales, support):
        client = api_as(user)
        assert client.get("/api/v1/social-accounts/").status_code == 200
        assert client.post("/api/v1/social-accounts/", _payload(), format="json").status_code == 403
        for action in ("sync", "pause", "resume"):
            assert client.post(f"/api/v1/social-accounts/{account.pk}/{action}/").status_code == 403
        assert client.delete(f"/api/v1/social-accounts/{account.pk}/").status_code in (403, 405)
    assert api_as(outsider).get("/api/v1/social-accounts/").status_code == 403
    account.refresh_from_db()
    assert account.state == "active"
    assert SocialAccount.objects.count() == 1


def test_connect_page_shows_the_chosen_networks_fields(client, manager):
    client.force_login(manager)
    page = client.get("/social-accounts/connect/").content.decode()
    assert 'name="app_password"' in page and 'name="consumer_key"' not in page
    x = client.get(
        "/social-accounts/connect/?network=x&handle=brand", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in x
    for name in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
        assert f'name="{name}"' in x
    assert 'name="app_password"' not in x and 'name="base_url"' not in x
    assert 'value="brand"' in x


def test_connect_page_shows_field_messages_and_keeps_no_secret(client, manager):
    client.force_login(manager)
    response = client.post(
        "/social-accounts/connect/",
        {"network": "mastodon", "kind": "personal", "handle": "me", "access_token": SECRET},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "belongs to a staff member" in html
    assert SECRET not in html
    assert not SocialAccount.objects.exists()


def test_connect_page_and_actions_are_for_managers(client, sales, support, manager):
    account = SocialAccountFactory()
    for user in (sales, support):
        client.force_login(user)
        assert client.get("/social-accounts/connect/").status_code == 403
        assert client.post("/social-accounts/connect/", {}).status_code == 403
        assert client.post(f"/social-accounts/{account.pk}/pause/").status_code == 403
        page = client.get("/social-accounts/").content.decode()
        assert "Connect an account" not in page and "Pause" not in page
    client.force_login(manager)
    page = client.get("/social-accounts/").content.decode()
    assert "Connect an account" in page and "Pause" in page
    row = client.post(
        f"/social-accounts/{account.pk}/pause/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in row and "Resume" in row
    account.refresh_from_db()
    assert account.state == "paused"
    response = client.post(f"/social-accounts/{account.pk}/resume/")
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.state == "active"
    client.logout()
    assert client.get("/social-accounts/").status_code == 302


def test_sync_status_page(client, support, django_assert_max_num_queries):
    client.force_login(support)
    SocialAccountFactory(
        handle="<script>alert(1)</script>", last_error="<img src=x onerror=alert(1)>"
    )
    client.get("/social-accounts/")
    with django_assert_max_num_queries(10) as small:
        assert client.get("/social-accounts/").status_code == 200
    SocialAccountFactory.create_batch(8)
    with django_assert_max_num_queries(10) as big:
        html = client.get("/social-accounts/").content.decode()
    assert len(small.captured_queries) == len(big.captured_queries)
    assert html.count('class="card account ') == 9
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_sync_status_shows_backfill_progress_and_failures(client, support):
    client.force_login(support)
    running = SocialAccountFactory(backfill_state="running", backfill_pages=20, backfill_items=950)
    SyncFailure.objects.create(
        account=running,
        network="bluesky",
        stream="notifications",
        external_id="at://bad/1",
        reason="<b>no author</b>",
    )
    done = SocialAccountFactory(backfill_state="done", backfill_items=12)
    html = client.get("/social-accounts/").content.decode()
    row = html.split(f'id="account-{running.pk}"')[1].split("</section>")[0]
    assert f'hx-get="/social-accounts/{running.pk}/" hx-trigger="every 2s"' in row
    assert (
        f'<progress id="backfill-{running.pk}" max="100" value="{socialaccount_backfill_percent(running)}"'
        in row
    )
    assert 0 < socialaccount_backfill_percent(running) < 100
    assert "950 items fetched" in row
    assert "at://bad/1" in row and "&lt;b&gt;no author&lt;/b&gt;" in row
    finished = html.split(f'id="account-{done.pk}"')[1].split("</section>")[0]
    assert "hx-trigger" not in finished.split(">")[0]
    assert 'value="100"' in finished

    # The polled row: once the backfill is done, it comes back without the trigger.
    SocialAccount.objects.filter(pk=running.pk).update(backfill_state="done")
    polled = client.get(f"/social-accounts/{running.pk}/", HTTP_HX_REQUEST="true")
    assert "<html" not in polled.content.decode()
    assert "every 2s" not in polled.content.decode()


def test_sync_action_queues_a_task_after_commit(manager, django_capture_on_commit_callbacks):
    account = SocialAccountFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_as(manager).post(f"/api/v1/social-accounts/{account.pk}/sync/")
    assert response.status_code == 202
    assert len(response.json()["task_id"]) == 32
    assert len(callbacks) == 1


def test_sync_status_says_what_is_wrong_in_the_users_language(client, support):
    """The account's last_error is the network's own English (an exception's text, or
    the demo's note); the page leads with a sentence in the user's language and folds
    the raw text under "Technical detail"."""
    SocialAccountFactory(
        handle="refused",
        credentials={"access_token": SECRET},
        state="needs_reconnect",
        last_error="401 Client Error: Unauthorized for url: https://bsky.social/xrpc/x",
    )
    SocialAccountFactory(
        handle="demo",
        state="paused",
        last_error="Demo account without credentials: connect a real one to sync.",
    )
    SocialAccountFactory(handle="fine", credentials={"access_token": SECRET})
    client.force_login(support)
    html = client.get("/social-accounts/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "La red ya no acepta el inicio de sesión de Momento" in html
    assert "No hay credenciales guardadas: conecta la cuenta para sincronizarla." in html
    assert html.count('<details class="technical"><summary>Detalle técnico</summary>') == 2
    assert "<dt>Problema</dt>" in html and html.count("<dt>Problema</dt>") == 2
    assert '<pre dir="ltr">401 Client Error: Unauthorized for url' in html
