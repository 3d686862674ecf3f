from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from contacts.models import Contact, Purchase, SocialIdentity, TimelineEntry, Todo
from crm.models import SocialAccount


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    display_name = factory.Faker("name")


class SocialIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialIdentity

    contact = factory.SubFactory(ContactFactory)
    network = "bluesky"
    external_id = factory.Sequence(lambda n: f"did:plc:test{n}")
    handle = factory.Sequence(lambda n: f"person{n}.test")


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialAccount

    network = "bluesky"
    kind = "brand"
    handle = factory.Sequence(lambda n: f"brand{n}.test")
    base_url = "http://127.0.0.1:2583"


class TimelineEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEntry

    contact = factory.SubFactory(ContactFactory)
    kind = "mention"
    network = "bluesky"
    external_id = factory.Sequence(lambda n: f"at://did:plc:x/app.bsky.feed.post/{n}")
    direction = "in"
    text = factory.Faker("sentence")
    occurred_at = factory.LazyFunction(timezone.now)


class TodoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Todo

    contact = factory.SubFactory(ContactFactory)
    title = factory.Sequence(lambda n: f"Call back #{n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class PurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchase

    contact = factory.SubFactory(ContactFactory)
    amount = Decimal("39.90")
    currency = "EUR"
    product = "Fibra 600Mb"
    source = "shop"
    external_ref = factory.Sequence(lambda n: f"order-{n}")
    purchased_at = factory.LazyFunction(timezone.now)


# --- campaigns -------------------------------------------------------------------------


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Campaign"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campaign {n}")
    goal = "Find people who need a better plan"

    @factory.post_generation
    def accounts(self, create, extracted, **kwargs):
        if create and extracted:
            self.accounts.set(extracted)


class ListeningRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.ListeningRule"

    campaign = factory.SubFactory(CampaignFactory)
    hashtags = "momento"


class TrackedLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.TrackedLink"

    campaign = factory.SubFactory(CampaignFactory)
    destination = "https://shop.example.com/plans?ref=social"


class CampaignMatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.CampaignMatch"

    campaign = factory.SubFactory(CampaignFactory)
    entry = factory.SubFactory(TimelineEntryFactory, kind="post")
    occurred_at = factory.LazyAttribute(lambda m: m.entry.occurred_at)
    query = "#momento"


class SupportAgentFactory(factory.django.DjangoModelFactory):
    """A Support-role user on a team's round-robin."""

    class Meta:
        model = "support.SupportAgent"

    user = factory.SubFactory(UserFactory, role="Support")
    team = factory.LazyFunction(lambda: _default_team())
    max_open_tickets = 20


def _default_team():
    from support.services import team_default

    return team_default()


def complaint_entry(*, contact, account, text="My internet is down again, nothing works!", **kw):
    """An inbound public complaint through ``account``, from the contact's identity on
    that network (created when missing), classified like the ingest path does."""
    identity = contact.identities.filter(network=account.network).first() or SocialIdentityFactory(
        contact=contact, network=account.network
    )
    values = {
        "kind": "mention",
        "language": "en",
        "intent": "complaint",
        "sentiment": "negative",
        "network": account.network,
        "account": account,
        "identity": identity,
        "text": text,
    }
    values.update(kw)
    return TimelineEntryFactory(contact=contact, **values)
