from __future__ import annotations

import pytest

from support.models import Team
from tests.factories import ContactFactory, SocialAccountFactory, SocialIdentityFactory


@pytest.fixture
def team(db):
    """The default team from the data migration (24/7, SLA policies for every priority)."""
    return Team.objects.get(is_default=True)


@pytest.fixture
def account(db):
    return SocialAccountFactory(network="mastodon", handle="brand", base_url="http://127.0.0.1:1")


@pytest.fixture
def customer(db):
    contact = ContactFactory(display_name="Lucía Gómez", stage=2)
    SocialIdentityFactory(contact=contact, network="mastodon", handle="lucia", external_id="101")
    return contact
