"""Issue 12 build item 6: the demo talks back. ``make run``'s demo Mastodon server
(``manage.py demo_mastodon``, mastodon-mock on 127.0.0.1), seed_demo connecting the demo
brand to it, and the "Simulate a customer" page posting as a customer and showing what
Momento answered there."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from contacts.models import TimelineEntry
from crm.models import SocialAccount
from crm.networks.mastodon import html_to_text
from demo import server as demo_server
from support.models import Ticket
from tests.conftest import api_as
from tests.crm.helpers import answer
from tests.peers import _free_port, _stop_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_var(tmp_path, settings):
    settings.DEBUG = True  # the demo exists on development boxes only
    settings.VAR_DIR = tmp_path
    return tmp_path


@contextlib.contextmanager
def _demo_mastodon_process(var: Path, *args: str, **env: str):
    """``manage.py demo_mastodon`` in a subprocess on a free port, until its state file is
    written and it answers; stopped afterwards."""
    port = _free_port()
    log_path = var / "demo_mastodon.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "demo_mastodon", "--port", str(port), *args],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "MOMENTO_VAR_DIR": str(var), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            state = demo_server.state_load()
            if state and demo_server.is_up(state["base_url"]):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"demo_mastodon did not start: {log_path.read_text()}")
        assert state["base_url"] == f"http://127.0.0.1:{port}"
        yield state, log_path
    finally:
        _stop_process(proc, timeout=10)
        log.close()


@pytest.fixture
def demo_mastodon(demo_var):
    """The demo server as make run starts it, without --connect (this test's database is
    not one a subprocess sees)."""
    with _demo_mastodon_process(demo_var) as (state, _log):
        yield state


def _from_brand(state, username: str) -> list[dict]:
    """What the brand sent ``username``, as the customer's server shows it."""
    notes = demo_server.customer_client(state, username).notifications(types=["mention"], limit=80)
    return [n["status"] for n in notes if n["account"]["acct"] == state["brand"]]


@pytest.mark.peers
@pytest.mark.django_db
def test_a_customer_posts_through_the_simulate_page_and_the_answers_arrive_on_the_demo_server(
    demo_mastodon, client, django_capture_on_commit_callbacks
):
    state = demo_mastodon
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", contacts=6, demo_server_wait=5)
    brand = SocialAccount.objects.get(network="mastodon", base_url=state["base_url"])
    assert brand.kind == "brand" and brand.state == "active"
    assert brand.credentials == {"access_token": state["tokens"]["momentofibra"]}
    with django_capture_on_commit_callbacks(execute=True):  # idempotent: the same account
        call_command("seed_demo", contacts=6, demo_server_wait=5)
    assert SocialAccount.objects.filter(network="mastodon", base_url=state["base_url"]).count() == 1

    sofia = get_user_model().objects.get(username="sofia")
    client.force_login(sofia)
    home = client.get("/").content.decode()
    assert "/demo/simulate/" in home  # reachable from every page's header
    page = client.get("/demo/simulate/")
    assert page.status_code == 200 and "Demo" in page.content.decode()

    question = "Does the 600Mb fibre plan reach Valencia?"
    sent = client.post(
        "/demo/simulate/",
        {"action": "send", "customer": "lucia", "kind": "post", "text": question},
    )
    assert sent.status_code == 302
    dm = "My router has been down since this morning, customer number 4471"
    sent = client.post(
        "/demo/simulate/", {"action": "send", "customer": "lucia", "kind": "dm", "text": dm}
    )
    assert sent.status_code == 302
    lucia = demo_server.customer_client(state, "lucia")
    mine = lucia.account_statuses(lucia.me()["id"])
    assert len(mine) == 2
    assert {s["visibility"] for s in mine} == {"public", "direct"}

    with django_capture_on_commit_callbacks(execute=True):
        synced = client.post("/demo/simulate/", {"action": "sync", "customer": "lucia"})
    assert synced.status_code == 302
    inbound = TimelineEntry.objects.filter(
        account=brand, direction="in", kind__in=["mention", "dm"]
    )
    assert sorted(inbound.values_list("kind", flat=True)) == ["dm", "mention"]  # 0 missing, 0 twice
    mention = inbound.get(kind="mention")
    assert question in mention.text
    inbox = client.get("/inbox/").content.decode()
    assert question in inbox

    with django_capture_on_commit_callbacks(execute=True):
        response = answer(client, mention, "Yes, Lucía: the whole city since May.")
    assert response.status_code == 200
    ticket = Ticket.objects.get(links__entry__kind="dm", account=brand)
    with django_capture_on_commit_callbacks(execute=True):
        resolved = api_as(sofia).post(
            f"/api/v1/tickets/{ticket.pk}/resolve/", {"message": "Router fixed."}, format="json"
        )
    assert resolved.status_code == 200, resolved.content

    statuses = _from_brand(state, "lucia")
    public = [s for s in statuses if s["visibility"] == "public"]
    direct = [html_to_text(s["content"]) for s in statuses if s["visibility"] == "direct"]
    assert len(public) == 1 and "the whole city since May" in html_to_text(public[0]["content"])
    [post] = [s for s in mine if s["visibility"] == "public"]
    assert mention.external_id.endswith(f"/s/{post['id']}")
    assert str(public[0]["in_reply_to_id"]) == str(post["id"])  # the answer is in her thread
    assert sum("Router fixed." in t for t in direct) == 1
    [csat] = [t for t in direct if "/support/csat/" in t]
    assert re.search(r"/support/csat/[^/\s]+/", csat)

    shown = client.get("/demo/simulate/?customer=lucia").content.decode()
    assert "the whole city since May" in shown and "/support/csat/" in shown


@pytest.mark.django_db
def test_simulate_page_is_404_with_debug_off(demo_var, settings, client, manager):
    demo_server.state_write(port=_free_port())
    client.force_login(manager)
    assert client.get("/demo/simulate/").status_code == 200  # DEBUG on, server configured
    settings.DEBUG = False
    assert client.get("/demo/simulate/").status_code == 404
    assert client.post("/demo/simulate/", {"action": "sync"}).status_code == 404
    assert "/demo/simulate/" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_simulate_page_is_404_without_the_demo_server(demo_var, client, manager):
    client.force_login(manager)
    assert client.get("/demo/simulate/").status_code == 404
    assert "/demo/simulate/" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_simulate_page_shows_hostile_text_from_the_server_escaped(
    demo_mastodon, client, manager
):
    state = demo_mastodon
    brand = demo_server.customer_client(state, "momentofibra")
    brand.status_post('@emma <script>alert(1)</script> <img src=x onerror="alert(2)">')
    client.force_login(manager)
    page = client.get("/demo/simulate/?customer=emma").content.decode()
    section = page.split('id="customer-messages"', 1)[1]
    assert "<script>alert(1)</script>" not in section and "<img" not in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section  # shown, as text


def test_demo_server_command_refuses_with_debug_off(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo_mastodon", port=_free_port())


def test_procfile_runs_the_demo_server_and_the_readme_says_how_to_use_it():
    procfile = (ROOT / "Procfile").read_text()
    [line] = [ln for ln in procfile.splitlines() if ln.startswith("demo:")]
    assert "manage.py demo_mastodon" in line and "--connect" in line
    readme = (ROOT / "README.md").read_text()
    section = readme.split("make run", 1)[1].split("\n## ", 1)[0]
    assert "demo_mastodon" in section and "/demo/simulate/" in section
    assert "127.0.0.1:8765" in section


def test_demo_server_with_connect_connects_the_brand_itself(transactional_db, demo_var):
    """The Procfile's ``--connect``: make run seeds before honcho starts the server, so
    the server connects the demo brand account itself once it answers (and its first
    sync, run inline here, brings in the customers who follow the brand)."""
    db = connection.settings_dict
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MOMENTO_ALLOW_PRIVATE_NETWORKS": "1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "CONN_MAX_AGE": "0",
    }
    with _demo_mastodon_process(demo_var, "--connect", **env) as (state, log_path):
        deadline = time.monotonic() + 30
        while not TimelineEntry.objects.filter(kind="follow").count() >= 4:
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.3)
        brand = SocialAccount.objects.get(network="mastodon", base_url=state["base_url"])
        assert brand.kind == "brand" and brand.state == "active"
        followers = TimelineEntry.objects.filter(account=brand, kind="follow")
        assert sorted(followers.values_list("identity__handle", flat=True)) == sorted(
            f"{c['username']}@localhost:{state['base_url'].rsplit(':', 1)[1]}"
            for c in state["customers"]
        )


@pytest.mark.django_db
def test_simulate_page_in_spanish(demo_var, client, manager):
    demo_server.state_write(port=_free_port())  # configured, not running: said plainly
    client.force_login(manager)
    page = client.get("/demo/simulate/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Simular un cliente" in page and "Demo: simular un cliente" in page
    assert "El servidor de demostración no respondió" in page


@pytest.mark.django_db
def test_simulate_page_bad_input_gets_field_errors_and_a_down_server_its_reason(
    demo_var, client, manager
):
    demo_server.state_write(port=_free_port())  # configured; nothing listens there
    client.force_login(manager)
    empty = client.post(
        "/demo/simulate/", {"action": "send", "customer": "lucia", "kind": "post", "text": ""}
    )
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    stranger = client.post(
        "/demo/simulate/", {"action": "send", "customer": "mallory", "kind": "dm", "text": "hi"}
    )
    assert stranger.status_code == 400
    assert "Select a valid choice." in stranger.content.decode()
    too_long = client.post(
        "/demo/simulate/",
        {"action": "send", "customer": "lucia", "kind": "post", "text": "x" * 451},
    )
    assert too_long.status_code == 400
    down = client.post(
        "/demo/simulate/", {"action": "send", "customer": "lucia", "kind": "post", "text": "hi"}
    )
    assert down.status_code == 400
    assert "The demo server refused the message" in down.content.decode()
    sync = client.post("/demo/simulate/", {"action": "sync", "customer": "lucia"}, follow=True)
    assert "The demo brand account is not connected yet." in sync.content.decode()
