"""An agent corrects the classifier's labels of a received post in one click (inbox,
contact page, API); corrections are kept, shown in the admin and exported for the next
training run; an unsure label is marked."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from contacts.models import LabelCorrection
from contacts.services import contact_erase
from lib.classify.training import samples_from
from tests.conftest import api_as
from tests.factories import SocialAccountFactory, SocialIdentityFactory, TimelineEntryFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>window.pwned=1</script> two hours waiting <img src=x onerror="alert(1)">'


def _received(text="two hours waiting just to be told to come back tomorrow. Brilliant work."):
    account = SocialAccountFactory()
    identity = SocialIdentityFactory(network=account.network)
    return TimelineEntryFactory(
        account=account,
        identity=identity,
        contact=identity.contact,
        network=account.network,
        kind="mention",
        direction="in",
        text=text,
        language="en",
        intent="praise",
        sentiment="positive",
        label_confidence=0.55,
    )


def test_the_inbox_marks_an_unsure_label_and_one_click_corrects_it(
    client, support, django_assert_max_num_queries
):
    entry = _received(HOSTILE)
    client.force_login(support)
    page = client.get(reverse("crm:inbox")).content.decode()
    assert f'id="label-{entry.pk}"' in page
    assert "unsure" in page
    assert "<script>window.pwned" not in page and "&lt;script&gt;" in page
    url = reverse("contacts:entry-label", args=[entry.pk])
    assert f'hx-post="{url}"' in page
    with django_assert_max_num_queries(12):
        response = client.post(url, {"intent": "complaint"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="label-{entry.pk}"' in html and "Complaint" in html and "unsure" not in html
    entry.refresh_from_db()
    assert (entry.intent, entry.sentiment, entry.label_confidence) == (
        "complaint",
        "negative",
        1.0,
    )
    correction = LabelCorrection.objects.get()
    assert (correction.previous_intent, correction.previous_sentiment) == ("praise", "positive")
    assert (correction.intent, correction.sentiment) == ("complaint", "negative")
    assert correction.previous_confidence == 0.55
    assert correction.corrected_by == support
    assert correction.text == HOSTILE


def test_a_sentiment_alone_can_be_corrected_without_htmx(client, support):
    entry = _received("is the Leeds branch open on Sunday")
    entry.intent, entry.sentiment = "question", "negative"
    entry.save()
    client.force_login(support)
    back = reverse("contacts:detail", args=[entry.contact_id])
    response = client.post(
        reverse("contacts:entry-label", args=[entry.pk]), {"sentiment": "neutral", "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    entry.refresh_from_db()
    assert (entry.intent, entry.sentiment) == ("question", "neutral")
    page = client.get(back).content.decode()
    assert f'id="label-{entry.pk}"' in page


def test_a_bad_label_is_a_clear_400_and_changes_nothing(client, support):
    entry = _received()
    client.force_login(support)
    url = reverse("contacts:entry-label", args=[entry.pk])
    response = client.post(url, {"intent": "spam"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Choose a valid intent." in response.content.decode()
    response = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.intent == "praise"
    assert not LabelCorrection.objects.exists()


def test_only_staff_with_the_permission_may_correct(client, outsider):
    entry = _received()
    url = reverse("contacts:entry-label", args=[entry.pk])
    assert client.post(url, {"intent": "complaint"}).status_code == 302  # to the login
    client.force_login(outsider)
    assert client.post(url, {"intent": "complaint"}).status_code == 403
    assert client.get(url).status_code in (403, 405)
    entry.refresh_from_db()
    assert entry.intent == "praise" and not LabelCorrection.objects.exists()


def test_outbound_entries_have_no_labels_to_correct(client, support):
    entry = _received()
    entry.direction = "out"
    entry.save()
    client.force_login(support)
    response = client.post(reverse("contacts:entry-label", args=[entry.pk]), {"intent": "other"})
    assert response.status_code == 404


def test_api_corrects_lists_and_rejects_bad_input(support, outsider):
    entry = _received()
    client = api_as(support)
    response = client.post(
        "/api/v1/label-corrections/", {"entry": entry.pk, "intent": "complaint"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["intent"] == "complaint"
    assert response.json()["sentiment"] == "negative"
    listed = client.get("/api/v1/label-corrections/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["entry"] for r in rows] == [entry.pk]
    bad = client.post(
        "/api/v1/label-corrections/", {"entry": entry.pk, "intent": "spam"}, format="json"
    )
    assert bad.status_code == 400 and "intent" in bad.json()
    missing = client.post("/api/v1/label-corrections/", {"entry": 999999}, format="json")
    assert missing.status_code == 400 and "entry" in missing.json()
    forbidden = api_as(outsider).post(
        "/api/v1/label-corrections/", {"entry": entry.pk, "intent": "other"}, format="json"
    )
    assert forbidden.status_code == 403
    assert LabelCorrection.objects.count() == 1


def test_admin_lists_corrections_read_only(client, manager, support):
    entry = _received(HOSTILE)
    client.force_login(support)
    client.post(reverse("contacts:entry-label", args=[entry.pk]), {"intent": "complaint"})
    client.force_login(manager)
    page = client.get(reverse("admin:contacts_labelcorrection_changelist")).content.decode()
    assert "<script>window.pwned" not in page
    assert "two hours waiting" in page
    assert client.get(reverse("admin:contacts_labelcorrection_add")).status_code == 403


def test_export_gives_the_latest_label_of_each_entry_in_training_format(client, support, tmp_path):
    first, second = _received(), _received("me cobraron dos veces la factura, q verguenza")
    client.force_login(support)
    url = reverse("contacts:entry-label", args=[first.pk])
    client.post(url, {"intent": "other"})
    client.post(url, {"intent": "complaint"})  # changed their mind: the latest counts
    client.post(reverse("contacts:entry-label", args=[second.pk]), {"intent": "complaint"})
    out = tmp_path / "corrections.csv"
    call_command("classify_corrections", output=str(out), stderr=io.StringIO())
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["text"], r["intent"], r["sentiment"]) for r in rows] == [
        (first.text, "complaint", "negative"),
        (second.text, "complaint", "negative"),
    ]
    assert rows[0].keys() == {"text", "language", "intent", "sentiment"}
    assert len(samples_from(rows)) == 2  # what classify_train --corrections reads


def test_erasing_a_contact_erases_its_corrections(client, support, manager):
    entry = _received()
    client.force_login(support)
    client.post(reverse("contacts:entry-label", args=[entry.pk]), {"intent": "complaint"})
    assert LabelCorrection.objects.count() == 1
    contact_erase(contact=entry.contact, actor=manager)
    assert not LabelCorrection.objects.exists()
