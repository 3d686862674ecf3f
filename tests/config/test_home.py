"""The home page per role: each says what to do next and links to where it is done."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import CampaignMatch
from crm.models import SocialAccount
from support.models import Incident, Ticket
from support.services import team_default
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    SocialAccountFactory,
    TimelineEntryFactory,
    TodoFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _ticket(team, *, due_in_minutes, **kw):
    now = timezone.now()
    return Ticket.objects.create(
        contact=kw.pop("contact", None) or ContactFactory(),
        subject=kw.pop("subject", "Router"),
        team=team,
        status="open",
        sla_first_response_minutes=60,
        sla_running_since=now - timedelta(minutes=60 - due_in_minutes),
        first_response_due_at=now + timedelta(minutes=due_in_minutes),
        **kw,
    )


def _section(html: str, name: str) -> str:
    return html.split(f'id="home-{name}"')[1].split("</section>")[0]


def test_support_home_my_tickets_by_sla_time_left_breaching_and_unassigned(client, support):
    team = team_default()
    later = _ticket(team, due_in_minutes=50, assignee=support, subject="Later one")
    sooner = _ticket(team, due_in_minutes=5, assignee=support, subject="Sooner one")
    nobody = _ticket(team, due_in_minutes=500, subject="Nobody's")
    Ticket.objects.create(contact=ContactFactory(), subject="Closed", team=team, status="closed")
    client.force_login(support)
    html = client.get(reverse("home")).content.decode()
    assert 'id="home-sales"' not in html and 'id="home-manager"' not in html
    section = _section(html, "support")
    mine = section.split("My open tickets (2)")[1].split("<h3>")[0]
    assert mine.index("Sooner one") < mine.index("Later one")
    assert f'href="/support/tickets/{sooner.pk}/"' in mine
    breaching = section.split("Breaching within 60 minutes (2)")[1].split("<h3>")[0]
    assert "Sooner one" in breaching and "Nobody" not in breaching
    unassigned = section.split("Unassigned (1)")[1]
    assert f'href="/support/tickets/{nobody.pk}/"' in unassigned
    assert "Closed" not in section
    assert later.pk  # listed above


def test_sales_home_tasks_due_stale_leads_and_feeds(client, sales):
    now = timezone.now()
    due = TodoFactory(assignee=sales, title="Call Ana back", due_at=now - timedelta(hours=1))
    TodoFactory(assignee=sales, title="Next week", due_at=now + timedelta(days=7))
    TodoFactory(assignee=sales, title="Done", due_at=now, done_at=now)
    stale = ContactFactory(owner=sales, stage=1, display_name="Stale Lead")
    stale.last_interaction_at = now - timedelta(days=30)
    stale.save()
    ContactFactory(owner=sales, stage=1, display_name="Fresh Lead", last_interaction_at=now)
    ContactFactory(owner=UserFactory(), stage=1, display_name="Someone else's")
    campaign = CampaignFactory(name="Spring launch")
    for _ in range(3):
        CampaignMatch.objects.create(
            campaign=campaign, entry=TimelineEntryFactory(), occurred_at=now, state="new"
        )
    quiet = CampaignFactory(name="Quiet one")
    CampaignMatch.objects.create(
        campaign=quiet, entry=TimelineEntryFactory(), occurred_at=now, state="engaged"
    )
    client.force_login(sales)
    html = client.get(reverse("home")).content.decode()
    section = _section(html, "sales")
    assert "Call Ana back" in section and "Next week" not in section and "Done" not in section
    assert f'href="/contacts/{due.contact_id}/"' in section
    assert "Stale Lead" in section and "Fresh Lead" not in section
    assert "Someone else" not in section
    assert "Spring launch</a> · 3 new matches" in section
    assert "Quiet one" not in section


def _stage_figures(html):
    stats = html.split('id="home-stages"')[1].split("</div>\n</div>")[0]
    return [int(n) for n in re.findall(r'<div class="figure">(\d+)</div>', stats)]


def test_the_pipeline_figures_are_the_salespersons_own_and_everyones_for_a_manager(
    client, sales, manager
):
    """Sales' home said "Your pipeline" over the whole company's counts (117 / 58 / 25
    on the demo data, for Ana who owns a fraction): now it counts and links to the
    contacts they own; a manager's is headed "Pipeline" and counts everyone's."""
    ContactFactory.create_batch(2, owner=sales, stage=1)
    ContactFactory(owner=sales, stage=2)
    ContactFactory.create_batch(3, owner=UserFactory(), stage=1)
    ContactFactory.create_batch(4, stage=0)

    client.force_login(sales)
    html = client.get(reverse("home")).content.decode()
    assert "<h2>Your pipeline</h2>" in html
    assert _stage_figures(html) == [0, 2, 1]
    assert 'href="/contacts/?stage=1&amp;owner=me"' in html

    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    assert "<h2>Pipeline</h2>" in html
    assert _stage_figures(html) == [4, 5, 1]
    assert 'href="/contacts/?stage=1"' in html


def test_manager_home_sla_today_accounts_and_incidents(client, manager):
    team = team_default()
    ticket = _ticket(team, due_in_minutes=30)
    ticket.first_response_at = timezone.now()
    ticket.save()
    broken = SocialAccountFactory(handle="brand-es", state=SocialAccount.State.NEEDS_RECONNECT)
    SocialAccountFactory(handle="fine")
    incident = Incident.objects.create(title="Outage in Madrid", team=team)
    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    section = _section(html, "manager")
    assert 'class="sla-first">100.0 %' in section
    assert f'href="/social-accounts/#account-{broken.pk}"' in section and "fine" not in section
    assert f'href="/support/incidents/{incident.pk}/"' in section
    assert "Outage in Madrid" in section


def test_manager_home_does_not_claim_every_account_is_connected(client, manager):
    """With no account to reconnect the list said "Every account is connected." — on
    the demo data, whose three accounts are paused without credentials. It says what
    it checked instead."""
    SocialAccountFactory(handle="demo", state=SocialAccount.State.PAUSED)
    client.force_login(manager)
    section = _section(client.get(reverse("home")).content.decode(), "manager")
    assert "Every account is connected" not in section
    assert "No account needs reconnecting, and none is failing." in section
    # Nor "no tickets yet" beside "Opened today: 1": the attainment counts tickets
    # answered (resolved) or past their target, and there are none of those yet.
    _ticket(team_default(), due_in_minutes=30)
    section = _section(client.get(reverse("home")).content.decode(), "manager")
    assert "no tickets yet" not in section
    assert '<dd class="sla-first"><span class="muted">none answered or overdue yet' in section
    assert '<dd class="sla-resolution"><span class="muted">none resolved or overdue yet' in section


def test_home_queries_stay_constant(client, support):
    team = team_default()
    client.force_login(support)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("home"))
        return len(ctx.captured_queries)

    _ticket(team, due_in_minutes=5, assignee=support)
    small = count()
    for i in range(20):
        _ticket(team, due_in_minutes=i, assignee=support if i % 2 else None)
    assert count() == small
