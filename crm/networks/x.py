"""X, on ``tweepy``'s v2 ``Client`` (answers read as plain JSON, ``return_type=dict``).

Streams:

``mentions``   ``GET /2/users/:id/mentions``, newest first, walked back one page at a
               time (``pagination_token``) to our cursor (the newest tweet id stored);
               a reply or quote of one of our posts is a mention too.
``dms``        ``GET /2/dm_events`` (MessageCreate), newest first; walked back the same
               way to our cursor (the newest DM event id stored).
``followers``  ``GET /2/users/:id/followers``; it has no time or order guarantee beyond
               "newest first", so our cursor is the list of the newest follower ids seen
               and a new follower is one before them.

The Account Activity webhook (crm/webhooks.py) delivers the same things in v1.1's
format; :func:`normalise_activity` maps them to the same external ids as polling
(tweet id, DM event id, ``follow:<follower>:<us>``, ``like:<user>:<tweet>``), so an item
seen both ways is stored once.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
import tweepy

from core.choices import Direction, EntryKind, Network

from . import base
from .base import (
    Author,
    FailedItem,
    FetchResult,
    Interaction,
    Keyed,
    Page,
    Sent,
    StreamState,
    walk_back_step,
)
from .common import header, id_key, int_or_none, parse_reset, parse_time, text_of

NETWORK = Network.X
TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "public_metrics",
]
USER_FIELDS = ["username", "name", "public_metrics", "profile_image_url"]
DM_FIELDS = ["id", "text", "event_type", "created_at", "dm_conversation_id", "sender_id"]
#: Pages of followers a sync reads at most looking for the ones it knows.
MAX_WALK_PAGES = 20
FOLLOWER_MEMORY = 50
#: Mentions and DM events: at most 100 a page.
MAX_LIMIT = 100
#: Error params naming the network (for the translated stream error).
WHO = {"network": "X"}
#: Twitter's snowflake epoch (ms): a tweet or DM event id carries its time.
SNOWFLAKE_EPOCH_MS = 1288834974657


def _call(fn, *args, **kwargs):
    """Call tweepy, mapping its errors to ``base``'s."""
    try:
        return fn(*args, **kwargs)
    except tweepy.TooManyRequests as exc:
        headers = exc.response.headers if exc.response is not None else None
        reset = parse_reset(header(headers, "x-rate-limit-reset"))
        raise base.RateLimited(f"X rate limit: {exc}", reset_at=reset, params=WHO) from exc
    except tweepy.Unauthorized as exc:
        raise base.AuthError(f"X rejected the credentials: {exc}", params=WHO) from exc
    except tweepy.TwitterServerError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        raise base.TransientError(
            f"X server error: {exc}", code="server_error", params={**WHO, "status": status}
        ) from exc
    except (tweepy.Forbidden, tweepy.NotFound, tweepy.BadRequest) as exc:
        raise base.InvalidRequest(f"X refused the request: {exc}", params=WHO) from exc
    except tweepy.HTTPException as exc:
        raise base.InvalidRequest(f"X: {exc}", params=WHO) from exc
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise base.TransientError(f"X did not answer: {exc!r}", params=WHO) from exc
    except tweepy.TweepyException as exc:
        raise base.TransientError(f"X: {exc}", params=WHO) from exc


def _author(user: dict[str, Any]) -> Author:
    user_id = user.get("id") or user.get("id_str")
    if not user_id:
        raise ValueError("user without an id")
    username = text_of(user.get("username") or user.get("screen_name")) or str(user_id)
    metrics = user.get("public_metrics") or {}
    followers = metrics.get("followers_count", user.get("followers_count"))
    return Author(
        external_id=str(user_id),
        handle=username,
        display_name=text_of(user.get("name")),
        profile_url=f"https://x.com/{username}",
        avatar_url=text_of(user.get("profile_image_url") or user.get("profile_image_url_https")),
        follower_count=int_or_none(followers),
    )


def _snowflake_time(value: str) -> datetime | None:
    if not value.isdigit():
        return None
    return datetime.fromtimestamp(((int(value) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC)


def _keyed(row: dict[str, Any]) -> Keyed:
    """A tweet or DM event with its id as the walk's key (time from its ``created_at``,
    else from the id)."""
    row_id = str(row.get("id") or "")
    if not row_id.isdigit():
        return Keyed(row)
    try:
        at = parse_time(row.get("created_at"))
    except ValueError:
        at = _snowflake_time(row_id)
    return Keyed(row, row_id, id_key(row_id), at)


def _tweet_url(username: str, tweet_id: str) -> str:
    return f"https://x.com/{username}/status/{tweet_id}"


def _users(page: dict[str, Any]) -> dict[str, dict]:
    return {str(u["id"]): u for u in (page.get("includes") or {}).get("users") or [] if "id" in u}


class Adapter:
    network: ClassVar[str] = NETWORK
    streams: ClassVar[tuple[str, ...]] = ("mentions", "dms", "followers")
    max_page: ClassVar[int] = MAX_LIMIT
    idempotent_sends: ClassVar[bool] = False
    private_replies: ClassVar[bool] = False

    def __init__(self, *, handle: str, credentials: dict, user_id: str = ""):
        self.handle = handle
        self.credentials = dict(credentials or {})
        self.user_id = user_id
        self.user_auth = bool(
            self.credentials.get("consumer_key") and self.credentials.get("access_token")
        )
        self.client = tweepy.Client(
            bearer_token=self.credentials.get("bearer_token"),
            consumer_key=self.credentials.get("consumer_key"),
            consumer_secret=self.credentials.get("consumer_secret"),
            access_token=self.credentials.get("access_token"),
            access_token_secret=self.credentials.get("access_token_secret"),
            return_type=dict,
        )

    @classmethod
    def from_account(cls, account: Any) -> Adapter:
        return cls(
            handle=account.handle,
            credentials=account.credentials or {},
            user_id=account.external_id,
        )

    @classmethod
    def from_credentials(cls, *, base_url: str, handle: str, credentials: dict) -> Adapter:
        return cls(handle=handle, credentials=credentials)

    def updated_credentials(self) -> dict | None:
        return None

    def _get(self, fn, *args, **kwargs) -> dict[str, Any]:
        if not self.user_auth and not self.credentials.get("bearer_token"):
            raise base.AuthError("No X keys are stored for this account.")
        page = _call(fn, *args, user_auth=self.user_auth, **kwargs)
        if not isinstance(page, dict):
            raise base.InvalidRequest("X answered something that is not JSON.")
        return page

    def _me(self) -> str:
        if not self.user_id:
            self.user_id = self.verify().external_id
        return self.user_id

    def verify(self) -> Author:
        page = self._get(self.client.get_me, user_fields=USER_FIELDS)
        data = page.get("data") or {}
        author = _author(data)
        self.user_id = author.external_id
        return author

    # -- reading ----------------------------------------------------------------------

    def fetch_page(self, stream: str, state: StreamState, *, limit: int) -> Page:
        """Mentions and DM events: one page of a newest-first walk back to the cursor
        (the newest id stored), ``pagination_token`` as the walk's position (mentions
        also ask ``since_id`` just below the cursor, so X stops there); a walk that runs
        out of pages before it sees the cursor's item is a gap. Followers: the newest
        followers before the ones we know."""
        limit = max(5, min(limit, MAX_LIMIT))
        if stream == "mentions":
            stop = state.stop if state.walking else state.cursor
            page = self._get(
                self.client.get_users_mentions,
                self._me(),
                # One before the stop key, so the stop tweet itself comes back when X
                # still serves it: that is how the walk sees it reached the cursor.
                since_id=str(int(stop) - 1) if stop.isdigit() and int(stop) > 1 else None,
                pagination_token=state.position or None,
                max_results=limit,
                tweet_fields=TWEET_FIELDS,
                expansions=["author_id", "referenced_tweets.id"],
                user_fields=USER_FIELDS,
            )
            rows = page.get("data") or []
            keep, moved, more, gap, limited = walk_back_step(
                state,
                [_keyed(t) for t in rows],
                next_position=(page.get("meta") or {}).get("next_token") if rows else None,
                order_of=id_key,
            )
            items, failed = self.normalise_tweets({**page, "data": keep})
            return Page(items, failed, moved, more, gap, limited)
        if stream == "dms":
            page = self._dm_page(state.position or None, limit)
            rows = [
                e
                for e in page.get("data") or []
                if e.get("event_type", "MessageCreate") == "MessageCreate"
            ]
            keep, moved, more, gap, limited = walk_back_step(
                state,
                [_keyed(e) for e in rows],
                next_position=(page.get("meta") or {}).get("next_token")
                if page.get("data")
                else None,
                order_of=id_key,
            )
            items, failed = self.normalise_dm_events({**page, "data": keep})
            return Page(items, failed, moved, more, gap, limited)
        if stream == "followers":
            found = self._followers(state.cursor or None, limit)
            return Page(found.items, found.failed, replace(state, cursor=found.cursor or ""), False)
        raise base.InvalidRequest(f"X has no stream {stream!r}")

    def normalise_tweets(self, page: dict[str, Any]) -> tuple[list[Interaction], list[FailedItem]]:
        """API v2 tweets (with ``includes.users``) addressed to us."""
        users = _users(page)
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for tweet in page.get("data") or []:
            try:
                items.append(self._tweet(tweet, users))
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                failed.append(
                    FailedItem(
                        str(tweet.get("id") or "x:malformed"), f"Malformed tweet: {exc}", tweet
                    )
                )
        return items, failed

    def _tweet(self, tweet: dict[str, Any], users: dict[str, dict], kind: str = "") -> Interaction:
        tweet_id = str(tweet["id"])
        author_id = str(tweet.get("author_id") or "")
        if not author_id:
            raise ValueError("tweet without author_id")
        author = _author(users.get(author_id) or {"id": author_id})
        refs = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
        if not kind:
            kind = (
                EntryKind.REPLY
                if "replied_to" in refs
                else EntryKind.QUOTE
                if "quoted" in refs
                else EntryKind.MENTION
            )
        metrics = tweet.get("public_metrics") or {}
        return Interaction(
            network=NETWORK,
            external_id=tweet_id,
            kind=kind,
            author=author,
            occurred_at=parse_time(tweet.get("created_at")),
            text=text_of(tweet.get("text")),
            url=_tweet_url(author.handle, tweet_id),
            in_reply_to=refs.get("replied_to") or refs.get("quoted") or "",
            thread_id=str(tweet.get("conversation_id") or tweet_id),
            like_count=int_or_none(metrics.get("like_count")) or 0,
            repost_count=(int_or_none(metrics.get("retweet_count")) or 0)
            + (int_or_none(metrics.get("quote_count")) or 0),
            reply_count=int_or_none(metrics.get("reply_count")) or 0,
            raw=tweet,
        )

    def _dm_page(self, token: str | None, limit: int) -> dict[str, Any]:
        return self._get(
            self.client.get_direct_message_events,
            event_types="MessageCreate",
            dm_event_fields=DM_FIELDS + ["participant_ids"],
            expansions=["sender_id", "participant_ids"],
            user_fields=USER_FIELDS,
            max_results=limit,
            pagination_token=token,
        )

    def normalise_dm_events(
        self, page: dict[str, Any]
    ) -> tuple[list[Interaction], list[FailedItem]]:
        users = _users(page)
        me = self.user_id
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for event in page.get("data") or []:
            if event.get("event_type", "MessageCreate") != "MessageCreate":
                continue
            try:
                event_id = str(event["id"])
                sender = str(event.get("sender_id") or "")
                if not sender:
                    raise ValueError("DM event without sender_id")
                conversation = str(event.get("dm_conversation_id") or "")
                participants = [str(p) for p in event.get("participant_ids") or []]
                if not participants and "-" in conversation:
                    participants = conversation.split("-")
                outbound = bool(me) and sender == me
                if outbound:
                    others = [p for p in participants if p != me]
                    if not others:
                        raise ValueError("outgoing DM without a recipient")
                    person = others[0]
                else:
                    person = sender
                author = _author(users.get(person) or {"id": person})
                items.append(
                    Interaction(
                        network=NETWORK,
                        external_id=event_id,
                        kind=EntryKind.DM,
                        author=author,
                        occurred_at=parse_time(event.get("created_at")),
                        text=text_of(event.get("text")),
                        thread_id=conversation,
                        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                        raw=event,
                    )
                )
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                failed.append(
                    FailedItem(str(event.get("id") or "x:dm"), f"Malformed DM event: {exc}", event)
                )
        return items, failed

    def _follower_page(self, token: str | None, limit: int) -> dict[str, Any]:
        return self._get(
            self.client.get_users_followers,
            self._me(),
            max_results=limit,
            pagination_token=token,
            user_fields=USER_FIELDS,
        )

    def _followers(self, cursor: str | None, limit: int) -> FetchResult:
        try:
            known = set(json.loads(cursor)) if cursor else set()
        except ValueError:
            known = set()
        fresh: list[dict] = []
        token = None
        newest: list[str] = []
        for _ in range(MAX_WALK_PAGES):
            page = self._follower_page(token, 1000 if known else limit)
            rows = page.get("data") or []
            newest.extend(str(u.get("id")) for u in rows[:FOLLOWER_MEMORY] if u.get("id"))
            reached = False
            for user in rows:
                if str(user.get("id")) in known:
                    reached = True
                    break
                fresh.append(user)
            token = (page.get("meta") or {}).get("next_token")
            if reached or not token or not known:
                break
        items, failed = self._follow_items(list(reversed(fresh)))
        remembered = newest[:FOLLOWER_MEMORY] or sorted(known)
        return FetchResult(items, failed, json.dumps(remembered), False)

    def _follow_items(self, users: list[dict]) -> tuple[list[Interaction], list[FailedItem]]:
        me = self._me()
        now = datetime.now(UTC)
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for user in users:
            try:
                author = _author(user)
            except (ValueError, TypeError, AttributeError) as exc:
                failed.append(FailedItem(f"follow:?:{me}", f"Malformed follower: {exc}", user))
                continue
            items.append(
                Interaction(
                    network=NETWORK,
                    external_id=f"follow:{author.external_id}:{me}",
                    kind=EntryKind.FOLLOW,
                    author=author,
                    occurred_at=now,
                    url=author.profile_url,
                    raw=user,
                )
            )
        return items, failed

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """Recent tweets matching ``query`` newer than ``cursor`` (a tweet id)."""
        page = self._get(
            self.client.search_recent_tweets,
            query,
            since_id=cursor,
            max_results=max(10, min(limit, 100)),
            tweet_fields=TWEET_FIELDS,
            expansions=["author_id"],
            user_fields=USER_FIELDS,
        )
        users = _users(page)
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for tweet in sorted(page.get("data") or [], key=lambda t: id_key(str(t.get("id", "")))):
            try:
                items.append(self._tweet(tweet, users, kind=EntryKind.POST))
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                failed.append(
                    FailedItem(str(tweet.get("id", "")), f"Malformed tweet: {exc}", tweet)
                )
        newest = (page.get("meta") or {}).get("newest_id") or cursor
        return FetchResult(items, failed, newest, bool((page.get("meta") or {}).get("next_token")))

    # -- writing ----------------------------------------------------------------------

    def _created(self, page: dict[str, Any], *, thread_id: str = "") -> Sent:
        data = page.get("data") or {}
        tweet_id = str(data.get("id") or "")
        if not tweet_id:
            raise base.InvalidRequest("X did not return the new post.")
        return Sent(
            external_id=tweet_id,
            url=_tweet_url(self.handle, tweet_id),
            thread_id=thread_id,
            raw=data,
        )

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        page = _call(
            self.client.create_tweet,
            text=text,
            in_reply_to_tweet_id=in_reply_to,
            user_auth=self.user_auth,
        )
        return self._created(page)

    def post(self, *, text: str, idempotency_key: str) -> Sent:
        return self._created(_call(self.client.create_tweet, text=text, user_auth=self.user_auth))

    def private_reply(self, *, comment_id: str, recipient: Author, text: str) -> Sent:
        raise base.InvalidRequest("X has no private replies: send a direct message.")

    def send_dm(
        self,
        *,
        recipient: Author,
        text: str,
        thread_id: str,
        idempotency_key: str,
        in_reply_to: str = "",
    ) -> Sent:
        if thread_id and "-" not in thread_id:
            page = _call(
                self.client.create_direct_message,
                dm_conversation_id=thread_id,
                text=text,
                user_auth=self.user_auth,
            )
        else:
            page = _call(
                self.client.create_direct_message,
                participant_id=recipient.external_id,
                text=text,
                user_auth=self.user_auth,
            )
        data = page.get("data") or {}
        event_id = str(data.get("dm_event_id") or "")
        if not event_id:
            raise base.InvalidRequest("X did not return the sent message.")
        return Sent(
            external_id=event_id, thread_id=str(data.get("dm_conversation_id") or ""), raw=data
        )

    def like(self, *, external_id: str) -> Sent:
        page = _call(self.client.like, external_id, user_auth=self.user_auth)
        return Sent(external_id=f"like:{self._me()}:{external_id}", raw=page.get("data") or {})

    def follow(self, *, author: Author) -> Sent:
        page = _call(self.client.follow_user, author.external_id, user_auth=self.user_auth)
        return Sent(
            external_id=f"follow:{self._me()}:{author.external_id}",
            url=author.profile_url,
            raw=page.get("data") or {},
        )

    # -- Account Activity (webhook) ----------------------------------------------------

    def normalise_activity(
        self, payload: dict[str, Any]
    ) -> tuple[list[Interaction], list[FailedItem]]:
        return normalise_activity(payload, user_id=self.user_id)


def _v1_time(event: dict[str, Any], *keys: str) -> datetime:
    for key in keys:
        value = event.get(key)
        if value in (None, ""):
            continue
        if key.endswith("timestamp_ms") or key == "created_timestamp":
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    raise ValueError("event without a time")


def _v1_tweet(tweet: dict[str, Any], user_id: str) -> Interaction | None:
    user = tweet.get("user") or {}
    author = _author(user)
    if author.external_id == user_id:
        return None  # our own tweet
    tweet_id = str(tweet.get("id_str") or tweet["id"])
    if tweet.get("retweeted_status"):
        original = tweet["retweeted_status"]
        return Interaction(
            network=NETWORK,
            external_id=tweet_id,
            kind=EntryKind.REPOST,
            author=author,
            occurred_at=_v1_time(tweet, "timestamp_ms", "created_at"),
            url=_tweet_url(author.handle, tweet_id),
            in_reply_to=str(original.get("id_str") or original.get("id") or ""),
            raw=tweet,
        )
    extended = tweet.get("extended_tweet") or {}
    text = text_of(extended.get("full_text") or tweet.get("full_text") or tweet.get("text"))
    reply_to = tweet.get("in_reply_to_status_id_str") or ""
    quoted = tweet.get("quoted_status_id_str") or ""
    kind = (
        EntryKind.REPLY
        if reply_to
        else EntryKind.QUOTE
        if tweet.get("is_quote_status") and quoted
        else EntryKind.MENTION
    )
    return Interaction(
        network=NETWORK,
        external_id=tweet_id,
        kind=kind,
        author=author,
        occurred_at=_v1_time(tweet, "timestamp_ms", "created_at"),
        text=text,
        url=_tweet_url(author.handle, tweet_id),
        in_reply_to=str(reply_to or quoted),
        thread_id=str(reply_to or tweet_id),
        like_count=int_or_none(tweet.get("favorite_count")) or 0,
        repost_count=(int_or_none(tweet.get("retweet_count")) or 0)
        + (int_or_none(tweet.get("quote_count")) or 0),
        reply_count=int_or_none(tweet.get("reply_count")) or 0,
        raw=tweet,
    )


def normalise_activity(
    payload: dict[str, Any], *, user_id: str
) -> tuple[list[Interaction], list[FailedItem]]:
    """Account Activity API events (v1.1 format) for the account ``user_id``:
    ``tweet_create_events``, ``direct_message_events``, ``follow_events``,
    ``favorite_events``. What our own account did is left out (except DMs we sent from
    X's app, stored as outbound); unknown event kinds are ignored."""
    user_id = str(payload.get("for_user_id") or user_id)
    items: list[Interaction] = []
    failed: list[FailedItem] = []

    def attempt(external_id: str, what: str, raw: dict, build) -> None:
        try:
            item = build()
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            failed.append(FailedItem(external_id or f"x:{what}", f"Malformed {what}: {exc}", raw))
            return
        if item is not None:
            items.append(item)

    for tweet in payload.get("tweet_create_events") or []:
        attempt(str(tweet.get("id_str", "")), "tweet", tweet, lambda t=tweet: _v1_tweet(t, user_id))

    for event in payload.get("favorite_events") or []:

        def like(event=event):
            author = _author(event.get("user") or {})
            if author.external_id == user_id:
                return None
            tweet = event.get("favorited_status") or {}
            tweet_id = str(tweet.get("id_str") or tweet["id"])
            return Interaction(
                network=NETWORK,
                external_id=f"like:{author.external_id}:{tweet_id}",
                kind=EntryKind.LIKE,
                author=author,
                occurred_at=_v1_time(event, "timestamp_ms", "created_at"),
                url=_tweet_url((tweet.get("user") or {}).get("screen_name", "i"), tweet_id),
                in_reply_to=tweet_id,
                raw=event,
            )

        attempt(str(event.get("id", "")), "like", event, like)

    for event in payload.get("follow_events") or []:

        def follow(event=event):
            if event.get("type") != "follow":
                return None
            source = _author(event.get("source") or {})
            target = str((event.get("target") or {}).get("id") or "")
            if source.external_id == user_id or target != user_id:
                return None
            return Interaction(
                network=NETWORK,
                external_id=f"follow:{source.external_id}:{user_id}",
                kind=EntryKind.FOLLOW,
                author=source,
                occurred_at=_v1_time(event, "created_timestamp"),
                url=source.profile_url,
                raw=event,
            )

        attempt("", "follow", event, follow)

    users = payload.get("users") or {}
    for event in payload.get("direct_message_events") or []:

        def dm(event=event):
            if event.get("type") != "message_create":
                return None
            create = event["message_create"]
            sender = str(create["sender_id"])
            recipient = str((create.get("target") or {}).get("recipient_id") or "")
            outbound = sender == user_id
            person = recipient if outbound else sender
            profile = users.get(person) or {"id": person}
            author = _author({**profile, "id": person})
            low, high = sorted([sender, recipient], key=id_key)
            return Interaction(
                network=NETWORK,
                external_id=str(event["id"]),
                kind=EntryKind.DM,
                author=author,
                occurred_at=_v1_time(event, "created_timestamp"),
                text=text_of((create.get("message_data") or {}).get("text")),
                thread_id=f"{low}-{high}",
                direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                raw=event,
            )

        attempt(str(event.get("id", "")), "DM", event, dm)
    return items, failed
