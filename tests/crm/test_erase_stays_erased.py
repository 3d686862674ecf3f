"""A GDPR erase that stays erased, end to end on mastodon-mock: a person posts (a
mention with a hashtag and a DM), the brand syncs, backfills and listens, she is
erased, and then every write path reads her again (sync from scratch, backfill again,
listening again, a CSV import naming her). She does not come back, the others do, and
a ``pg_dump`` of the database holds no byte of her posts, handle or ids in clear."""

from __future__ import annotations

import subprocess

import pytest
from django.db import connection

from campaigns.models import CampaignMatch
from campaigns.services import rule_listen
from contacts.models import Contact, ContactImport, SocialIdentity, TimelineEntry, Tombstone
from contacts.services import contact_import_draft, contact_import_start, contact_import_step
from crm.models import SocialAccount, SyncStream
from crm.sync import backfill_queue, backfill_step, sync_account_run
from tests.conftest import api_as
from tests.factories import CampaignFactory, ListeningRuleFactory, SocialAccountFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.peers]

SECRET_POST = "Quiero el plan Zafiro-8841 para mi casa #momento @brand"
SECRET_DM = "Mi pedido es QX-55172, dirección Calle Olmo 9"
BYSTANDER_POST = "Does anyone like the plan? #momento @brand"


@pytest.fixture
def mastodon_accounts():
    return ["brand", "zoraidaq", "bob"]


def _everything_again(account: SocialAccount, rule) -> None:
    """Every write path reads the network from scratch."""
    SyncStream.objects.filter(account=account).delete()  # every stream polls from scratch
    sync_account_run(account_id=account.pk)
    backfill_queue(account_id=account.pk)
    while backfill_step(account_id=account.pk):
        pass
    rule.refresh_from_db()
    rule.cursors = {}
    rule.save(update_fields=["cursors"])
    rule_listen(rule_id=rule.pk, network="mastodon")


def _dump() -> bytes:
    settings = connection.settings_dict
    return subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "--host",
            settings["HOST"] or "127.0.0.1",
            "--port",
            str(settings["PORT"] or 5432),
            "--username",
            settings["USER"] or "postgres",
            settings["NAME"],
        ],
        check=True,
        capture_output=True,
        env={"PGPASSWORD": settings["PASSWORD"] or "", "PATH": "/usr/bin:/bin"},
        timeout=120,
    ).stdout


def test_erased_person_never_comes_back(mastodon_server, manager):
    zoraida, bob = mastodon_server.client("zoraidaq"), mastodon_server.client("bob")
    post = zoraida.status_post(SECRET_POST)
    dm = zoraida.status_post(f"@brand {SECRET_DM}", visibility="direct")
    bob_post = bob.status_post(BYSTANDER_POST)
    account = SocialAccountFactory(
        network="mastodon",
        handle="brand",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["brand"]},
    )
    campaign = CampaignFactory(accounts=[account])
    rule = ListeningRuleFactory(campaign=campaign, hashtags="#momento")

    sync_account_run(account_id=account.pk)
    rule_listen(rule_id=rule.pk, network="mastodon")
    her = SocialIdentity.objects.get(network="mastodon", handle__startswith="zoraidaq@")
    her_handle, her_id = her.handle, her.external_id
    her_entries = list(
        TimelineEntry.objects.filter(contact=her.contact)
        .exclude(external_id="")  # internal events (stage changes) have no network id
        .values_list("external_id", flat=True)
    )
    assert any(str(post["id"]) in i for i in her_entries)
    assert any(str(dm["id"]) in i for i in her_entries)
    assert CampaignMatch.objects.filter(campaign=campaign).count() == 2  # hers and bob's
    dump = _dump()
    assert SECRET_POST.split()[3].encode() in dump  # the check below can see her posts

    response = api_as(manager).post(f"/api/v1/contacts/{her.contact_id}/erase/")
    assert response.status_code == 200, response.content
    contacts_after_erase = Contact.objects.count()
    rows_after_erase = TimelineEntry.objects.filter(contact=her.contact).count()
    # Her user id, her handle and her two items; no email was known.
    assert Tombstone.objects.count() == 2 + len(her_entries) == 4

    _everything_again(account, rule)
    _everything_again(account, rule)
    job = contact_import_draft(
        actor=manager,
        filename="people.csv",
        content=f"Name;Network;Handle\nZoraida;mastodon;@{her_handle.upper()}\nBob;mastodon;bob2\n",
    )
    contact_import_start(
        job=job, mapping={"Name": "display_name", "Network": "network", "Handle": "handle"}
    )
    while contact_import_step(import_id=job.pk)[0]:
        pass
    job = ContactImport.objects.get(pk=job.pk)

    # She did not come back, by any path; the bystander is still synced, once.
    assert not SocialIdentity.objects.filter(network="mastodon", external_id=her_id).exists()
    assert not SocialIdentity.objects.filter(handle__iexact=her_handle).exists()
    assert not SocialIdentity.objects.filter(handle__istartswith="zoraidaq").exists()
    assert Contact.objects.count() == contacts_after_erase + 1  # bob2 from the CSV only
    assert TimelineEntry.objects.filter(contact=her.contact).count() == rows_after_erase
    assert not TimelineEntry.objects.filter(text__contains="Zafiro").exists()
    assert not TimelineEntry.objects.filter(text__contains="QX-55172").exists()
    assert TimelineEntry.objects.filter(external_id__endswith=f"/s/{bob_post['id']}").count() == 1
    assert (job.created_count, job.skipped_erased_count) == (1, 1)
    account.refresh_from_db()
    # Each re-read met her post (notifications, listening) and her DM again.
    assert account.items_skipped_erased >= 4
    page = api_as(manager).get(f"/api/v1/social-accounts/{account.pk}/").json()
    assert page["items_skipped_erased"] == account.items_skipped_erased

    dump = _dump()
    secrets = [
        "Zafiro-8841",
        "QX-55172",
        "Calle Olmo",
        "zoraidaq",
        her_id,
        *her_entries,
        f"/s/{post['id']}",
        f"/s/{dm['id']}",
    ]
    leaked = [s for s in secrets if s.encode() in dump or s.lower().encode() in dump]
    assert leaked == []
    assert BYSTANDER_POST.split()[0].encode() in dump  # the dump does hold the others
