"""Listening: search a network for a rule's keywords, phrases and hashtags, store what
matches on its authors' timelines (through sync's ingest path) and in the campaign's
feed, and attribute new people to the campaign.

Each search keeps its own cursor in ``ListeningRule.cursors["<network>:<query>"]``:

* the *head* pass reads the newest page (``cursor=None``) and keeps paging while every
  post on a page is new to the campaign, so a burst between two runs is read whole;
* the *resume* pass continues from the stored cursor. For a network whose search pages
  forward (Mastodon's ``min_id``) that is everything since the last run; for one that
  pages back in time (Bluesky's ``searchPosts``) it is older history, until the
  network answers with no cursor (``done``).

Both stop after ``PAGE_BUDGET`` pages. A post found twice (two rules, two runs, two
passes) is stored once: timeline entries are unique per network item, feed rows per
(campaign, entry). The cursor is saved after each page is stored, so a rate limit or a
crash loses nothing; ``RateLimited`` propagates for the task to retry at its reset time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from contacts.models import SocialIdentity, TimelineEntry
from crm.ingest import IngestStats, ingest_interactions
from crm.models import SocialAccount
from crm.networks import adapter_for
from crm.networks.base import AuthError, FetchResult, Interaction, InvalidRequest
from lib.classify.language import detect_language
from lib.classify.text import prepare

from ..models import Attribution, Campaign, CampaignMatch, ListeningRule
from .attribution import attribution_touch

PAGE_BUDGET = 5


@dataclass
class ListenResult:
    pages: int = 0
    matched: int = 0
    new_contacts: int = 0
    errors: list[str] = field(default_factory=list)


@transaction.atomic
def listening_rule_save(*, rule: ListeningRule) -> ListeningRule:
    """Save a new or changed rule after the model's own checks (at least one keyword,
    phrase or hashtag; known networks; ``ListeningRule.clean``). Raises
    ``ValidationError``. Where its searches stopped (``cursors``) is kept."""
    rule.full_clean()
    rule.save()
    return rule


def listening_account(campaign: Campaign, network: str) -> SocialAccount | None:
    """The campaign's account that searches ``network``: the brand's first, then staff's."""
    return (
        campaign.accounts.filter(network=network, state=SocialAccount.State.ACTIVE)
        .order_by(F("kind").asc(), "id")  # "brand" sorts before "personal"
        .first()
    )


def rule_networks(rule: ListeningRule) -> list[str]:
    """Networks the rule searches: its own choice, among those the campaign can use."""
    available = set(
        rule.campaign.accounts.filter(state=SocialAccount.State.ACTIVE).values_list(
            "network", flat=True
        )
    )
    wanted = set(rule.networks or []) or available
    return sorted(wanted & available)


def listening_due() -> list[tuple[int, str]]:
    """(rule id, network) for every active rule of every running campaign."""
    rules = ListeningRule.objects.filter(
        active=True, campaign__in=Campaign.objects.running()
    ).select_related("campaign")
    return [(rule.pk, network) for rule in rules for network in rule_networks(rule)]


def campaign_listen_now(*, campaign: Campaign) -> int:
    """Queue a search of each of the campaign's active rules on each of its networks,
    after the current transaction commits. Returns how many were queued."""
    from ..tasks import listen_rule

    due = [
        (rule.pk, network)
        for rule in campaign.rules.filter(active=True).select_related("campaign")
        for network in rule_networks(rule)
    ]
    for rule_id, network in due:
        transaction.on_commit(lambda r=rule_id, n=network: listen_rule.delay(r, n))
    return len(due)


def _word(term: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)


def post_wanted(rule: ListeningRule, item: Interaction) -> bool:
    """Whether a found post passes the rule's excluded words and language (the network
    decided that it matches the query)."""
    if any(_word(word).search(item.text) for word in rule.excluded()):
        return False
    if rule.language:
        detected = detect_language(prepare(item.text).text)
        if detected and detected != rule.language:
            return False
    return True


def _store_page(
    *,
    rule: ListeningRule,
    account: SocialAccount,
    query: str,
    page: FetchResult,
    on_stored: Callable[[], None],
) -> tuple[int, int]:
    """Store one page of search results through sync's ingest path, and in the same
    transaction put the posts in the campaign's feed, attribute their authors and run
    ``on_stored`` (which saves the cursor). Returns (posts new to the feed, new contacts)."""
    items = [item for item in page.items if post_wanted(rule, item)]
    if not items and not page.failed:
        with transaction.atomic():
            on_stored()
        return 0, 0
    network = account.network
    author_ids = {item.author.external_id for item in items}
    known_authors = set(
        SocialIdentity.objects.filter(network=network, external_id__in=author_ids).values_list(
            "external_id", flat=True
        )
    )
    outcome = [0, 0]

    def into_campaign(stats: IngestStats) -> None:
        if items:
            outcome[:] = _match(rule, account, query, items, author_ids - known_authors)
        on_stored()

    ingest_interactions(
        account=account,
        items=items,
        failed=page.failed,
        stream=f"listening:{rule.pk}",
        before_commit=into_campaign,
    )
    return outcome[0], outcome[1]


def _match(
    rule: ListeningRule,
    account: SocialAccount,
    query: str,
    items: list[Interaction],
    new_authors: set[str],
) -> tuple[int, int]:
    network = account.network
    entries = list(
        TimelineEntry.objects.filter(
            network=network, external_id__in=[item.external_id for item in items]
        ).only("pk", "contact_id", "occurred_at")
    )
    already = set(
        CampaignMatch.objects.filter(campaign_id=rule.campaign_id, entry__in=entries).values_list(
            "entry_id", flat=True
        )
    )
    fresh = [entry for entry in entries if entry.pk not in already]
    CampaignMatch.objects.bulk_create(
        [
            CampaignMatch(
                campaign_id=rule.campaign_id,
                entry=entry,
                rule=rule,
                query=query[:300],
                occurred_at=entry.occurred_at,
            )
            for entry in fresh
        ],
        ignore_conflicts=True,
    )
    new_contacts = set(
        SocialIdentity.objects.filter(network=network, external_id__in=new_authors).values_list(
            "contact_id", flat=True
        )
    )
    attribution_touch(
        contact_ids={entry.contact_id for entry in fresh} | new_contacts,
        campaign=rule.campaign,
        via=Attribution.Via.LISTENING,
        account=account,
    )
    if fresh:
        ListeningRule.objects.filter(pk=rule.pk).update(
            matched_count=F("matched_count") + len(fresh)
        )
    return len(fresh), len(new_contacts)


def _save_cursor(rule: ListeningRule, key: str, state: dict) -> None:
    """Runs inside the page's transaction. Only this search's key is written, under a
    row lock, so two networks of one rule running at once keep each other's cursors."""
    rule.cursors[key] = state
    locked = ListeningRule.objects.select_for_update().only("cursors").get(pk=rule.pk)
    locked.cursors[key] = state
    ListeningRule.objects.filter(pk=rule.pk).update(cursors=locked.cursors)


def _search(
    adapter, *, rule, account, query, key, state, result: ListenResult, resume: bool
) -> None:
    """One pass (see the module docstring). The head pass sets the cursor only for a
    search that has none yet, and then follows it page by page."""
    known = CampaignMatch.objects.filter(
        campaign_id=rule.campaign_id, entry__network=account.network
    )
    owns_cursor = resume or not (state.get("cursor") or state.get("done"))
    cursor = state.get("cursor") if resume else None
    for _page in range(PAGE_BUDGET):
        page = adapter.search(query, cursor)
        result.pages += 1
        ids = [item.external_id for item in page.items]
        seen = not resume and bool(ids) and known.filter(entry__external_id__in=ids).exists()
        state = {"cursor": page.cursor, "done": page.cursor is None}
        save = owns_cursor and (resume or bool(page.cursor))
        matched, new_contacts = _store_page(
            rule=rule,
            account=account,
            query=query,
            page=page,
            on_stored=(lambda s=state: _save_cursor(rule, key, s)) if save else (lambda: None),
        )
        result.matched += matched
        result.new_contacts += new_contacts
        if seen or not page.has_more or not page.cursor:
            break
        cursor = page.cursor


def rule_listen(*, rule_id: int, network: str) -> ListenResult:
    """Run every search of one rule on one network. Raises ``RateLimited`` (retry at its
    ``reset_at``) and ``TransientError`` (retry with backoff); an account the network
    rejects is marked ``needs_reconnect``."""
    result = ListenResult()
    rule = ListeningRule.objects.select_related("campaign").filter(pk=rule_id).first()
    if rule is None or not rule.active:
        return result
    account = listening_account(rule.campaign, network)
    if account is None:
        return result
    adapter = adapter_for(account)
    try:
        for query in rule.queries():
            key = f"{network}:{query}"
            state = dict(rule.cursors.get(key) or {})
            try:
                if state.get("cursor") and not state.get("done"):
                    _search(adapter, rule=rule, account=account, query=query, key=key,
                            state=state, result=result, resume=True)  # fmt: skip
                    state = dict(rule.cursors.get(key) or {})
                _search(adapter, rule=rule, account=account, query=query, key=key,
                        state=state, result=result, resume=False)  # fmt: skip
            except InvalidRequest as exc:
                result.errors.append(f"{query}: {exc}")
    except AuthError as exc:
        SocialAccount.objects.filter(pk=account.pk).update(
            state=SocialAccount.State.NEEDS_RECONNECT, last_error=str(exc)
        )
        result.errors.append(str(exc))
    finally:
        # A refreshed session (Bluesky) is kept, as sync does, so the next run need not log in.
        fresh = adapter.updated_credentials()
        if fresh:
            account.credentials = fresh
            account.save(update_fields=["credentials", "updated_at"])
        ListeningRule.objects.filter(pk=rule.pk).update(
            last_run_at=timezone.now(), last_error="\n".join(result.errors)[:2000]
        )
    return result
