"""Reads on campaigns, shared by pages, CSV and the API."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contacts.models import Contact, Purchase, StageChange
from core.choices import Network
from crm.models import SocialAccount
from support.models import Ticket

from .models import Attribution, Campaign, CampaignMatch, ScheduledPost

DAY = 86400.0


def _count(qs: QuerySet) -> Subquery:
    """``COUNT(*)`` of ``qs`` (filtered on ``OuterRef("pk")``) as a scalar subquery: two
    joined counts would multiply each other's rows."""
    return Subquery(
        qs.order_by().values("campaign_id").annotate(n=Count("pk")).values("n"),
        output_field=IntegerField(),
    )


def campaign_queryset() -> QuerySet[Campaign]:
    """Campaigns with their owner, for one campaign's pages (fetch one with
    ``core.access.get_for_user_or_404``)."""
    return Campaign.objects.select_related("owner")


def campaign_list_queryset() -> QuerySet[Campaign]:
    """Campaigns with what a list row shows, in a constant number of queries."""
    return (
        Campaign.objects.select_related("owner")
        .prefetch_related("accounts")
        .annotate(
            match_count=Coalesce(_count(CampaignMatch.objects.filter(campaign=OuterRef("pk"))), 0),
            contact_count=Coalesce(
                _count(
                    Attribution.objects.filter(
                        campaign=OuterRef("pk"), touch=Attribution.Touch.FIRST
                    )
                ),
                0,
            ),
        )
    )


def campaign_feed(campaign_id: int, *, state: str = "") -> QuerySet[CampaignMatch]:
    """A campaign's matched posts with their author, for the feed (keyset on
    ``occurred_at, id``). Dismissed posts only when asked for."""
    qs = CampaignMatch.objects.filter(campaign_id=campaign_id).select_related(
        "entry__contact", "entry__identity", "rule", "handled_by"
    )
    if state:
        return qs.filter(state=state)
    return qs.exclude(state=CampaignMatch.State.DISMISSED)


def campaign_posts(campaign_id: int) -> QuerySet[ScheduledPost]:
    return (
        ScheduledPost.objects.filter(campaign_id=campaign_id)
        .select_related("account", "outbound", "link", "created_by")
        .order_by("-send_at", "-id")
    )


def contacts_in_campaign(
    queryset: QuerySet[Contact], campaign_id: int, *, touch: str = ""
) -> QuerySet[Contact]:
    """Contacts the campaign touched (first or last; ``touch`` narrows to one). For the
    contact list's ``?campaign=ID`` filter."""
    attributions = Attribution.objects.filter(campaign_id=campaign_id)
    if touch:
        attributions = attributions.filter(touch=touch)
    return queryset.filter(pk__in=attributions.values("contact_id"))


# --- Funnel -----------------------------------------------------------------------------


@dataclass
class FunnelRow:
    key: str
    label: str
    kind: str = ""
    discovered: int = 0
    leads: int = 0
    customers: int = 0
    lead_rate: float | None = None
    customer_rate: float | None = None
    conversion_rate: float | None = None
    median_days_to_lead: float | None = None
    median_days_to_customer: float | None = None
    purchases: int = 0
    revenue: dict[str, str] = field(default_factory=dict)
    tickets: int = 0
    _to_lead: list[float] = field(default_factory=list, repr=False)
    _to_customer: list[float] = field(default_factory=list, repr=False)

    def add(self, at, lead_at, customer_at) -> None:
        self.discovered += 1
        if lead_at is not None:
            self.leads += 1
            self._to_lead.append((lead_at - at).total_seconds() / DAY)
        if customer_at is not None:
            self.customers += 1
            self._to_customer.append((customer_at - at).total_seconds() / DAY)

    def finish(self) -> None:
        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        self.lead_rate = rate(self.leads, self.discovered)
        self.customer_rate = rate(self.customers, self.leads)
        self.conversion_rate = rate(self.customers, self.discovered)
        if self._to_lead:
            self.median_days_to_lead = round(statistics.median(self._to_lead), 3)
        if self._to_customer:
            self.median_days_to_customer = round(statistics.median(self._to_customer), 3)

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


@dataclass
class Funnel:
    campaign_id: int
    touch: str
    total: FunnelRow
    accounts: list[FunnelRow]

    def as_dict(self) -> dict:
        return {
            "campaign": self.campaign_id,
            "touch": self.touch,
            "total": self.total.as_dict(),
            "accounts": [row.as_dict() for row in self.accounts],
        }


def _first_reached(stage: int) -> Subquery:
    """When the contact first reached ``stage`` or beyond after the touch."""
    return Subquery(
        StageChange.objects.filter(
            contact_id=OuterRef("contact_id"), to_stage__gte=stage, created_at__gte=OuterRef("at")
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )


def _account_label(account: SocialAccount | None) -> tuple[str, str]:
    if account is None:
        return "", ""
    if account.kind == SocialAccount.Kind.PERSONAL and account.user_id:
        who = account.user.get_full_name() or account.user.get_username()
        return f"{account} · {who}", account.kind
    return str(account), account.kind


ACCOUNT = "contact__campaign_attributions__account_id"


def _after_touch(model, *, campaign_id: int, touch: str, time_field: str) -> QuerySet:
    """Rows of ``model`` (purchases, tickets) of the campaign's contacts dated at or
    after their touch. A contact has one attribution per touch, so the join does not
    repeat rows."""
    path = "contact__campaign_attributions"
    return model.objects.filter(
        **{
            f"{path}__campaign_id": campaign_id,
            f"{path}__touch": touch,
            f"{time_field}__gte": F(f"{path}__at"),
        }
    ).order_by()


def campaign_funnel(campaign: Campaign, *, touch: str = Attribution.Touch.FIRST) -> Funnel:
    """Discovered → lead → customer for the contacts whose ``touch`` (first or last) is
    this campaign, in total and per account (brand, each staff member's own).

    A contact counts as a lead or customer when a stage change took it there at or
    after the touch (a refund later does not undo it); time to convert is from the
    touch. Revenue (per currency) counts purchases, and support load tickets, dated at
    or after the touch.
    """
    rows = (
        Attribution.objects.filter(campaign=campaign, touch=touch)
        .annotate(lead_at=_first_reached(1), customer_at=_first_reached(2))
        .values_list("account_id", "at", "lead_at", "customer_at")
    )
    total = FunnelRow(key="total", label="")
    by_account: dict[int | None, FunnelRow] = {}
    for account_id, at, lead_at, customer_at in rows:
        total.add(at, lead_at, customer_at)
        row = by_account.setdefault(account_id, FunnelRow(key=str(account_id or "none"), label=""))
        row.add(at, lead_at, customer_at)
    accounts = SocialAccount.objects.select_related("user").in_bulk(
        [pk for pk in by_account if pk is not None]
    )
    for pk, row in by_account.items():
        row.label, row.kind = _account_label(accounts.get(pk))

    totals: dict[str, dict[str, Decimal]] = {}
    sums = (
        _after_touch(Purchase, campaign_id=campaign.pk, touch=touch, time_field="purchased_at")
        .values(ACCOUNT, "currency")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .values_list(ACCOUNT, "currency", "n", "amount")
    )
    for account_id, currency, n, amount in sums:
        for row in (by_account[account_id], total):
            row.purchases += n
            totals.setdefault(row.key, {}).setdefault(currency, Decimal(0))
            totals[row.key][currency] += amount
    for row in [total, *by_account.values()]:
        row.revenue = {c: str(v) for c, v in sorted(totals.get(row.key, {}).items())}
    tickets = (
        _after_touch(Ticket, campaign_id=campaign.pk, touch=touch, time_field="created_at")
        .values(ACCOUNT)
        .annotate(n=Count("pk"))
        .values_list(ACCOUNT, "n")
    )
    for account_id, n in tickets:
        by_account[account_id].tickets = n
        total.tickets += n

    for row in [total, *by_account.values()]:
        row.finish()
    ordered = sorted(
        by_account.values(),
        key=lambda r: (r.key == "none", r.kind != SocialAccount.Kind.BRAND, r.label),
    )
    return Funnel(
        campaign_id=campaign.pk,
        touch=touch,
        total=total,
        accounts=ordered,
    )


def campaign_listen_blocker(campaign: Campaign) -> str:
    """Why "Listen now" would search nothing, in the reader's language ("" when it can
    search): no rule switched on, no account, or the accounts it has are paused or need
    reconnecting (each named), or none is on a network its rules search."""
    rules = list(campaign.rules.all())
    active_rules = [rule for rule in rules if rule.active]
    if not rules:
        return _("Add a listening rule first.")
    if not active_rules:
        return _("Every listening rule of this campaign is switched off; switch one on first.")
    accounts = list(campaign.accounts.order_by("network", "handle"))
    if not accounts:
        return _("Add one of our accounts to this campaign first: listening searches through it.")
    active = {a.network for a in accounts if a.state == SocialAccount.State.ACTIVE}
    if not active:
        states = {
            SocialAccount.State.PAUSED: _("is paused"),
            SocialAccount.State.NEEDS_RECONNECT: _("needs reconnecting"),
        }
        named = "; ".join(
            f"@{a.handle} ({Network(a.network).label}) {states.get(a.state, a.get_state_display())}"
            for a in accounts
        )
        return ngettext(
            "The campaign's account cannot listen: %(accounts)s. Resume or reconnect it first.",
            "The campaign's accounts cannot listen: %(accounts)s. Resume or reconnect one first.",
            len(accounts),
        ) % {"accounts": named}
    wanted = {n for rule in active_rules for n in (rule.networks or [])}
    if wanted and not wanted & active:
        networks = ", ".join(sorted(Network(n).label for n in wanted))
        return _("The rules search %(networks)s, and the campaign has no active account there.") % {
            "networks": networks
        }
    return ""
