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
