import pytest
from django.core.management import call_command

from contacts.models import Contact, SocialIdentity, StageChange, TimelineEntry
from crm.models import SocialAccount


@pytest.fixture(autouse=True)
def development_box(settings):
    """seed_demo is for development boxes (DEBUG on; pytest turns it off)."""
    settings.DEBUG = True


@pytest.mark.django_db
def test_seed_demo_is_bilingual_spread_and_idempotent():
    call_command("seed_demo", contacts=60)
    counts = (
        Contact.objects.count(),
        SocialIdentity.objects.count(),
        TimelineEntry.objects.count(),
        StageChange.objects.count(),
        SocialAccount.objects.count(),
    )
    assert counts[0] == 60
    assert counts[2] >= 60 * 5
    assert set(Contact.objects.values_list("stage", flat=True)) == {0, 1, 2}
    assert set(Contact.objects.values_list("language", flat=True)) == {"en", "es"}
    assert {"complaint", "question", "praise"} <= set(
        TimelineEntry.objects.values_list("intent", flat=True)
    )
    assert (
        TimelineEntry.objects.filter(kind="dm").exists()
        and TimelineEntry.objects.filter(kind="follow").exists()
    )
    assert set(SocialAccount.objects.values_list("kind", flat=True)) == {"brand", "personal"}
    assert Contact.objects.filter(score__gt=0).count() > 30  # scored from their engagement
    from campaigns.models import Campaign
    from campaigns.selectors import campaign_funnel

    # The demo campaign found three in five contacts while they were strangers; the
    # funnel counts the ones who went on to become leads and customers.
    funnel = campaign_funnel(Campaign.objects.get())
    assert funnel.total.discovered == 36
    assert 0 < funnel.total.customers < funnel.total.leads < funnel.total.discovered
    assert len(funnel.accounts) == 3

    # The demo's tickets were opened when their message came (the report's days show
    # the fortnight), their SLA targets as far after as for a ticket opened now.
    from django.db.models import Min

    from support.models import Ticket

    tickets = Ticket.objects.annotate(first=Min("links__entry__occurred_at"))
    assert tickets.count() > 3
    assert all(t.created_at == t.first for t in tickets)
    assert len({t.created_at.date() for t in tickets}) > 2
    assert all(
        t.first_response_due_at is None or t.first_response_due_at > t.created_at for t in tickets
    )

    call_command("seed_demo", contacts=60)
    assert counts == (
        Contact.objects.count(),
        SocialIdentity.objects.count(),
        TimelineEntry.objects.count(),
        StageChange.objects.count(),
        SocialAccount.objects.count(),
    )


@pytest.mark.django_db
def test_seed_demo_refuses_in_production_unless_forced(settings):
    from django.contrib.auth import get_user_model
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo", contacts=5)
    assert not get_user_model().objects.filter(username="manager").exists()
    assert not Contact.objects.exists()
    call_command("seed_demo", contacts=5, force=True)
    assert get_user_model().objects.filter(username="manager", is_staff=True).exists()


def _demo_names():
    from campaigns.models import Campaign, ListeningRule
    from contacts.models import StageRule, Tag
    from support.models import Team

    return {
        "team": Team.objects.get(is_default=True).name,
        "rules": set(StageRule.objects.values_list("name", flat=True)),
        "campaign": Campaign.objects.get().name,
        "listening": ListeningRule.objects.get().name,
        "tags": set(Tag.objects.values_list("name", flat=True)),
        "reasons": set(StageChange.objects.values_list("reason", flat=True)),
        "changed_by_rule": set(StageChange.objects.exclude(rule="").values_list("rule", flat=True)),
        "account_notes": set(SocialAccount.objects.values_list("last_error", flat=True)),
    }


@pytest.mark.django_db
def test_seed_demo_in_english_keeps_its_english_names():
    call_command("seed_demo", contacts=40, language="en")
    names = _demo_names()
    assert names["team"] == "Support"
    assert names["rules"] == {
        "Follow of our account",
        "Repeated engagement",
        "Direct message to us",
        "Purchase",
    }
    assert names["campaign"] == "Fibre 600 · launch"
    assert names["listening"] == "Fibre and routers"
    assert {"fibre", "business", "student"} <= names["tags"]
    assert "Bought the 600Mb fibre plan" in names["reasons"]
    assert names["changed_by_rule"] == {"Follow of our account"}
    assert names["account_notes"] == {
        "Demo account without credentials: connect a real one to sync."
    }


@pytest.mark.django_db
def test_seed_demo_in_spanish_names_the_demo_in_spanish(settings, client):
    """MOMENTO_DEMO_LANGUAGE=es (make run DEMO_LANGUAGE=es): the team, the stage rules,
    the campaign and its rule, tags and reasons are Spanish; the customers still write
    in both languages; a name someone chose is never renamed."""
    from contacts.models import StageRule

    StageRule.objects.filter(name="Repeated engagement").update(name="Three mentions")
    settings.MOMENTO_DEMO_LANGUAGE = "es"
    call_command("seed_demo", contacts=40)
    names = _demo_names()
    assert names["team"] == "Soporte"
    assert names["rules"] == {
        "Sigue nuestra cuenta",
        "Three mentions",
        "Nos escribe por mensaje directo",
        "Compra",
    }
    assert names["campaign"] == "Fibra 600 · lanzamiento"
    assert names["listening"] == "Fibra y routers"
    assert {"fibra", "empresa", "estudiante", "riesgo-de-baja"} >= names["tags"] - {"vip"}
    assert "Contrató la fibra de 600 Mb" in names["reasons"]
    assert any(reason.startswith("Siguió a @") for reason in names["reasons"])
    assert not any("Bought" in r or "Followed" in r for r in names["reasons"])
    assert names["changed_by_rule"] == {"Sigue nuestra cuenta"}
    assert set(Contact.objects.values_list("language", flat=True)) == {"en", "es"}

    # What a Spanish reader sees: the queue's team filter and a ticket's team.
    from django.contrib.auth import get_user_model

    from support.models import Ticket

    client.force_login(get_user_model().objects.get(username="manager"))
    queue = client.get("/support/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert ">Soporte</option>" in queue and ">Support</option>" not in queue
    ticket = Ticket.objects.select_related("team").first()
    assert ticket.team.name == "Soporte"
    page = client.get(f"/support/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    assert "<dd>Soporte</dd>" in page.content.decode()

    # Seeding again adds nothing and renames nothing; in English, the defaults follow.
    counts = (Contact.objects.count(), StageChange.objects.count())
    call_command("seed_demo", contacts=40)
    assert _demo_names()["team"] == "Soporte"
    call_command("seed_demo", contacts=40, language="en")
    assert (Contact.objects.count(), StageChange.objects.count()) == counts
    again = _demo_names()
    assert again["team"] == "Support" and "Follow of our account" in again["rules"]
    assert "Three mentions" in again["rules"]  # chosen by someone: kept


@pytest.mark.django_db
def test_seed_demo_refuses_a_language_it_has_no_demo_in():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No demo in 'fr'"):
        call_command("seed_demo", contacts=1, language="fr")
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_seed_demo_numbers_tell_a_plausible_story(settings):
    """What a new user's `make run` shows must not look broken (issue 12): stage ages
    and funnel medians vary, tickets stand at different points, customers bought
    something, the sales user has tasks, the stage does not follow the network, and
    every name is unique and without numbers."""
    import itertools
    import re
    import statistics
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db.models import Count, Min
    from django.utils import timezone

    from campaigns.models import Campaign
    from campaigns.selectors import campaign_funnel
    from contacts.models import Purchase, Todo
    from contacts.selectors import contact_board_queryset
    from support.models import Ticket

    settings.MOMENTO_DEMO_LANGUAGE = "es"
    call_command("seed_demo", contacts=120)
    now = timezone.now()

    # 1. Stage changes come after the contact's first message, days apart, before now.
    firsts = dict(
        TimelineEntry.objects.exclude(kind="stage_change")
        .values_list("contact")
        .annotate(m=Min("occurred_at"))
        .order_by()
    )
    leads = 0
    for contact in Contact.objects.filter(stage__gte=1).prefetch_related("stage_changes"):
        changes = sorted(contact.stage_changes.all(), key=lambda c: c.to_stage)
        assert [c.to_stage for c in changes] == list(range(1, contact.stage + 1))
        moments = [firsts[contact.pk], *(c.created_at for c in changes)]
        assert moments == sorted(moments) and moments[-1] < now
        assert moments[1] - moments[0] > timedelta(days=1)
        leads += 1
    assert leads > 20
    ages = [now - c.stage_since for c in contact_board_queryset()]
    assert min(ages) > timedelta(days=1) and len({a.days for a in ages}) > 20
    funnel = campaign_funnel(Campaign.objects.get())
    assert funnel.total.median_days_to_lead > 1 and funnel.total.median_days_to_customer > 1
    assert len({row.median_days_to_lead for row in funnel.accounts}) == 3

    # 2. Tickets opened at different times: some breached, some with time left, some
    # answered and resolved (the report's medians have numbers).
    tickets = list(Ticket.objects.all())
    assert len({t.created_at for t in tickets}) == len(tickets) > 6
    breached = [t for t in tickets if t.first_response_due_at and t.first_response_due_at < now]
    ahead = [t for t in tickets if t.status in ("new", "open") and t not in breached]
    resolved = [t for t in tickets if t.status == "resolved"]
    assert breached and resolved and len(ahead) >= 2
    assert {t.status for t in ahead} == {"new", "open"}
    for t in ahead:  # new: minutes left to answer; answered: hours left to resolve
        if t.status == "new":
            assert now < t.first_response_due_at < now + timedelta(hours=1)
        else:
            assert t.first_response_at < now and t.resolution_due_at > now + timedelta(hours=2)
    for t in resolved:
        assert t.created_at < t.first_response_at < t.resolved_at < now
        assert t.first_response_seconds > 0 and t.resolution_seconds > t.first_response_seconds
    assert len({t.first_response_seconds for t in resolved}) == len(resolved)
    # Each answered ticket shows its answer: a sent reply (a DM for a DM) on the
    # contact's timeline at the first response, after what it answers, and the
    # ticket's messages handled then.
    answered = [t for t in tickets if t.first_response_at]
    assert answered
    for t in answered:
        [reply] = t.replies.select_related("message__entry")
        sent = reply.message
        assert sent.state == "sent" and sent.entry.direction == "out"
        assert sent.entry.occurred_at == t.first_response_at == sent.sent_at
        opening = t.links.select_related("entry").order_by("entry__occurred_at")[0].entry
        assert opening.occurred_at < sent.entry.occurred_at
        assert sent.kind == ("dm" if opening.kind == "dm" else "reply") == sent.entry.kind
        assert sent.in_reply_to_id == opening.pk and sent.entry.contact_id == t.contact_id
        assert not t.links.filter(entry__direction="in", entry__handled_at__isnull=True).exists()
    unanswered = [t for t in tickets if not t.first_response_at]
    assert unanswered and not any(t.replies.exists() for t in unanswered)
    from support.selectors import support_report

    report = support_report(start=(now - timedelta(days=20)).date(), end=now.date())
    assert report["median_first_response_minutes"] > 0
    assert report["median_resolution_minutes"] > report["median_first_response_minutes"]
    for target in ("first_response", "resolution"):  # a late one each, not a flat 100 %
        assert 0 < report["sla"][target]["breached"] < report["sla"][target]["tickets"]

    # 3. Every customer bought once or twice, in euros, after becoming one.
    customers = Contact.objects.filter(stage=2).annotate(n=Count("purchases"))
    assert customers and {c.n for c in customers} <= {1, 2}
    assert not Purchase.objects.exclude(contact__stage=2).exists()
    assert set(Purchase.objects.values_list("currency", flat=True)) == {"EUR"}
    for p in Purchase.objects.select_related("contact"):
        became = p.contact.stage_changes.get(to_stage=2).created_at
        assert became <= p.purchased_at <= now and p.amount > 0
    assert funnel.total.purchases > 0 and funnel.total.revenue["EUR"] != "0.00"

    # 4. The sales user's tasks: due later today, overdue, later on.
    ana = get_user_model().objects.get(username="ana")
    todos = list(Todo.objects.filter(assignee=ana))
    today = timezone.localdate()
    assert len(todos) >= 4
    assert any(t.due_at > now and timezone.localtime(t.due_at).date() == today for t in todos)
    assert any(t.is_overdue for t in todos)
    assert any(timezone.localtime(t.due_at).date() > today for t in todos)
    assert all(t.contact.owner_id == ana.pk for t in todos)
    assert not any("{" in t.title for t in todos)

    # 5. The stage is not a function of the network: each network has every stage.
    by_network = {}
    for network, stage in Contact.objects.values_list("identities__network", "stage"):
        by_network.setdefault(network, set()).add(stage)
    assert by_network == {n: {0, 1, 2} for n in ("bluesky", "mastodon", "x")}
    rates = [row.lead_rate for row in funnel.accounts]
    assert max(rates) < 1 and min(rates) > 0
    assert all(0 < row.customer_rate < 1 for row in funnel.accounts)

    # 6. Names unique and without numbers; a reply answers the message before it.
    names = list(Contact.objects.values_list("display_name", flat=True))
    assert len(set(names)) == len(names)
    assert not any(re.search(r"\d", n) for n in names)
    from demo.data import TEXTS

    pairs = 0
    for contact in Contact.objects.all():
        entries = list(
            contact.timeline.exclude(kind="stage_change")
            .exclude(kind="ticket")
            .order_by("occurred_at", "id")
        )
        # A ticket's answer answers the ticket's first message (checked above).
        entries = [e for e in entries if not e.external_id.startswith("demo-answer-")]
        for before, reply in itertools.pairwise(entries):
            if reply.direction != "out":
                continue
            texts = TEXTS[contact.language]
            key = "dm" if before.kind == "dm" else before.intent
            answers = texts["reply_out"][key]
            if len(answers) > 1:
                asked = texts[key].index(before.text.replace("momentofibra.bsky.social", "{brand}"))
                assert reply.text == answers[asked]
            else:
                assert reply.text == answers[0]
            pairs += 1
    assert pairs > 20
    assert statistics.mean(len(n.split()) for n in names) >= 2

    # 7. The goal and the reasons follow --language, also over an English demo.
    assert Campaign.objects.get().goal.startswith("Ayudar")
    call_command("seed_demo", contacts=120, language="en")
    assert Campaign.objects.get().goal.startswith("Help")
    reasons = set(StageChange.objects.values_list("reason", flat=True))
    assert "Bought the 600Mb fibre plan" in reasons
    assert not any("Siguió" in r or "Contrató" in r for r in reasons)
    assert Todo.objects.filter(assignee=ana).count() == len(todos)  # once


def test_demo_people_go_on_past_the_unique_names():
    """The benchmarks load 100,000 demo people: names stay unique as far as they go,
    then repeat with a number, never an IndexError."""
    import random

    from demo.data import person

    rng = random.Random(1)
    names = [person(rng, n)["name"] for n in range(0, 100_000, 2)]
    assert len(names) == 50_000 and names[0] != names[1]
    assert not any(ch.isdigit() for ch in "".join(names[:2_000]))
    assert len(set(names)) == len(names)
