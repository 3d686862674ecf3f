"""``contacts.exports``: the contact list as CSV, safe to open in a spreadsheet."""

import csv
import io

import pytest

from contacts.exports import CONTACT_COLUMNS, contacts_csv_response
from contacts.models import Tag
from contacts.selectors import contact_list_queryset
from tests.factories import ContactFactory, SocialIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_formula_cells_are_neutralised():
    contact = ContactFactory(
        display_name='=HYPERLINK("http://evil.example","Click")',
        email="+1@example.com",
        phone="-2+3",
        company="@SUM(A1:A9)",
        language="\t=1",
        owner=UserFactory(username="\r=cmd"),
    )
    contact.tags.add(Tag.objects.create(name="=cmd|' /C calc'!A0"))
    SocialIdentityFactory(contact=contact, network="x", handle="lucia")

    response = contacts_csv_response(contact_list_queryset())

    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    header, row = csv.reader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert header == CONTACT_COLUMNS
    cells = dict(zip(header, row, strict=True))
    assert cells["display_name"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert cells["email"] == "'+1@example.com"
    assert cells["phone"] == "'-2+3"
    assert cells["company"] == "'@SUM(A1:A9)"
    assert cells["language"] == "'\t=1"
    assert cells["owner"] == "'\r=cmd"
    assert cells["tags"] == "'=cmd|' /C calc'!A0"
    # What cannot start a formula is written as it is; numbers stay numbers.
    assert cells["handles"] == "x:lucia"
    assert (cells["id"], cells["stage"], cells["score"]) == (str(contact.pk), "0", "0")
