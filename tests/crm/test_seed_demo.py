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
