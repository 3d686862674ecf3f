"""core.params: ids from requests are ASCII digits; a Unicode digit is no id, never a 500."""

from __future__ import annotations

import pytest

from core.params import ascii_int, ascii_ints
from tests.conftest import api_as
from tests.factories import ContactFactory

#: ``str.isdigit`` is true for each; ``int`` fails on some and reads others.
UNICODE_DIGITS = ["²", "³", "①", "٣", "߁", "𝟙", "١٢", "1²"]


@pytest.mark.parametrize(
    "value", [*UNICODE_DIGITS, "", " 1", "1 ", "-1", "+1", "1_0", "1e3", "0x1"]
)
def test_only_ascii_digits_are_ids(value):
    assert ascii_int(value) is None


def test_ascii_ints_keep_order_and_drop_the_rest():
    assert ascii_int("0042") == 42 and ascii_int("9" * 18) == 10**18 - 1
    assert ascii_int("9" * 19) is None  # past bigint: no row has it
    assert ascii_int(None) is None and ascii_int(7) is None
    assert ascii_ints(["3", "²", "1", "x", "٣"]) == [3, 1]


@pytest.mark.django_db
@pytest.mark.parametrize("digit", UNICODE_DIGITS)
def test_owner_with_a_unicode_digit_matches_nobody(client, manager, digit):
    ContactFactory(owner=manager)
    client.force_login(manager)
    for url in ("/contacts/", "/contacts/export.csv", "/contacts/pipeline/"):
        response = client.get(url, {"owner": digit})
        assert response.status_code == 200, url
    export = b"".join(client.get("/contacts/export.csv", {"owner": digit}).streaming_content)
    assert export.decode("utf-8-sig").count("\n") == 1  # the header alone
    api = api_as(manager).get("/api/v1/contacts/", {"owner": digit})
    assert api.status_code == 200 and api.json()["results"] == []
    mine = api_as(manager).get("/api/v1/contacts/", {"owner": str(manager.pk)})
    assert len(mine.json()["results"]) == 1


@pytest.mark.django_db
def test_page_size_takes_ascii_digits_only(manager):
    for value in ("²", "٣", "1_0", " 2"):
        response = api_as(manager).get("/api/v1/contacts/", {"page_size": value})
        assert response.status_code == 400 and "page_size" in response.json()
