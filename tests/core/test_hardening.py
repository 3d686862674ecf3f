"""The smaller holes of the security review, each as the attack or the bad input:
open redirects through ``next=``, personal data left in caches, currencies that are
not money, an invalid encryption key that passes ``check``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.utils import timezone

from contacts.models import Purchase, Todo
from support.models import Ticket
from support.services import ticket_open
from tests.conftest import api_as
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OFF_SITE = ["https://evil.example/", "//evil.example/x", "http:evil.example", "\\\\evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_bulk_assign_is_not_an_open_redirect(client, support, target):
    client.force_login(support)
    ticket = ticket_open(contact=ContactFactory(), subject="t")
    response = client.post(
        "/support/assign/", {"tickets": [ticket.pk], "assignee": support.pk, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/support/"
    assert Ticket.objects.get(pk=ticket.pk).assignee == support


def test_next_on_this_site_is_kept(client, support):
    client.force_login(support)
    ticket = ticket_open(contact=ContactFactory(), subject="t")
    response = client.post(
        "/support/assign/",
        {"tickets": [ticket.pk], "assignee": support.pk, "next": "/support/?queue=mine"},
    )
    assert response["Location"] == "/support/?queue=mine"


@pytest.mark.parametrize("target", OFF_SITE)
def test_contact_bulk_and_todo_done_refuse_off_site_next(client, sales, target):
    client.force_login(sales)
    contact = ContactFactory()
    bulk = client.post(
        "/contacts/bulk/",
        {"action": "owner", "contacts": [contact.pk], "owner": sales.pk, "next": target},
    )
    assert bulk.status_code == 302 and bulk["Location"] == "/contacts/"
    todo = Todo.objects.create(
        contact=contact, title="call", assignee=sales, created_by=sales, due_at=timezone.now()
    )
    done = client.post(f"/contacts/tasks/{todo.pk}/done/", {"next": target})
    assert done.status_code == 302 and done["Location"] == "/contacts/tasks/"


def test_pages_exports_and_api_with_personal_data_are_not_cached(client, sales):
    contact = ContactFactory(display_name="Cached Person")
    client.force_login(sales)
    for url in [
        "/contacts/",
        f"/contacts/{contact.pk}/",
        "/contacts/export.csv",
        f"/contacts/{contact.pk}/export.json",
        "/api/v1/contacts/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url
    assert api_as(sales).get("/api/v1/contacts/")["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("currency", ["XYZ", "QQQ", "1$", "XXX", "€", "EURO"])
def test_currency_must_be_iso_4217_in_the_api_and_the_form(client, sales, currency):
    contact = ContactFactory()
    api = api_as(sales).post(
        "/api/v1/purchases/",
        {"contact": contact.pk, "amount": "10", "currency": currency, "product": "p"},
        format="json",
    )
    assert api.status_code == 400
    assert "currency" in api.json()
    client.force_login(sales)
    form = client.post(
        f"/contacts/{contact.pk}/purchases/",
        {"product": "p", "amount": "10", "currency": currency},
        follow=True,
    )
    assert form.status_code == 200
    assert "is not an ISO 4217 currency code" in form.content.decode()
    assert not Purchase.objects.exists()


def test_iso_currencies_in_any_case_are_accepted(sales):
    contact = ContactFactory()
    for code in ["eur", "MXN", "usd"]:
        response = api_as(sales).post(
            "/api/v1/purchases/",
            {
                "contact": contact.pk,
                "amount": "10",
                "currency": code,
                "product": "p",
                "external_ref": code,
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
    assert sorted(Purchase.objects.values_list("currency", flat=True)) == ["EUR", "MXN", "USD"]


@pytest.mark.parametrize(
    "key",
    ["not-a-key", "", "x" * 44, "Zm9v"],
)
def test_invalid_field_encryption_key_fails_the_system_check(key):
    from core.fields import _fernet

    _fernet.cache_clear()
    with override_settings(FIELD_ENCRYPTION_KEY=key):
        errors = [e for e in run_checks() if e.id == "core.E001"]
    _fernet.cache_clear()
    assert len(errors) == 1
    assert "FIELD_ENCRYPTION_KEY" in errors[0].msg
    assert "Fernet" in errors[0].msg + errors[0].hint


def test_check_command_refuses_an_invalid_key_with_a_clear_message():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DEBUG="1", FIELD_ENCRYPTION_KEY="definitely-not-fernet")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "core.E001" in result.stderr
    assert "FIELD_ENCRYPTION_KEY is not a valid Fernet key (key 1 of 1)" in result.stderr
