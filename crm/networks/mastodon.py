"""Mastodon, on ``Mastodon.py``.

Streams:

``notifications``  mention (reply when it answers a post), reblog → repost,
                   favourite → like, follow, quote. Our cursor is the newest notification
                   id stored; ``min_id`` asks for the page right after it.
``dms``            direct conversations; our cursor is the newest direct status id stored.

Ids are local to an instance, and one company may connect accounts on several, so
external ids carry the instance: ``<host>/s/<status id>`` for a post or DM,
``<host>/n/<notification id>`` for a like, repost or follow. An author is keyed by the
webfinger address ``user@domain``, the same from every instance. ``status_post`` sends an
``Idempotency-Key``, so a retried reply or DM is posted once (``idempotent_sends``).
"""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from core.choices import Direction, EntryKind, Network

from . import base
from .base import Author, FailedItem, FetchResult, Interaction, Sent
from .common import header, id_key, int_or_none, parse_reset, parse_time, text_of

NETWORK = Network.MASTODON
TYPES = {"mention", "reblog", "favourite", "follow", "quote"}
KIND = {
    "reblog": EntryKind.REPOST,
    "favourite": EntryKind.LIKE,
    "follow": EntryKind.FOLLOW,
    "quote": EntryKind.QUOTE,
}
#: Real servers serve at most 80 notifications a page, 40 conversations; some serve
#: fewer than asked, so "is there more" is "was this page empty", never its size.
MAX_LIMIT = 80
MAX_WALK_PAGES = 20


class _Text(HTMLParser):
    """Status HTML to plain text: paragraphs and <br> become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(html: Any) -> str:
    html = text_of(html)
    if "<" not in html and "&" not in html:
        return html
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def plain(value: Any) -> Any:
    """Mastodon.py's entities (dict subclasses with datetimes) as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class Adapter:
    network: ClassVar[str] = NETWORK
    streams: ClassVar[tuple[str, ...]] = ("notifications", "dms")
    #: Mastodon deduplicates ``status_post`` by ``Idempotency-Key``: a send whose outcome
    #: is unknown may be retried with the same key.
    idempotent_sends: ClassVar[bool] = True

    def __init__(self, *, base_url: str, handle: str, credentials: dict, account_id: str = ""):
        if not base_url:
            raise base.InvalidRequest("A Mastodon account needs its instance URL.")
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc
        self.handle = handle
        self.credentials = dict(credentials or {})
        self._me: dict[str, Any] | None = None
        self._last_headers: dict[str, str] = {}
        session = requests.Session()
        session.hooks["response"].append(self._keep_headers)
        self.api = Mastodon(
            access_token=self.credentials.get("access_token"),
            api_base_url=self.base_url,
            session=session,
            ratelimit_method="throw",
            request_timeout=20,
            version_check_mode="none",
        )

    def _keep_headers(self, response, *args, **kwargs):
        self._last_headers = dict(response.headers)

    @classmethod
    def from_account(cls, account: Any) -> Adapter:
        return cls(
            base_url=account.base_url, handle=account.handle, credentials=account.credentials or {}
        )

    @classmethod
    def from_credentials(cls, *, base_url: str, handle: str, credentials: dict) -> Adapter:
        return cls(base_url=base_url, handle=handle, credentials=credentials)

    def updated_credentials(self) -> dict | None:
        return None  # access tokens do not rotate

    # -- errors -----------------------------------------------------------------------

    def _call(self, fn, *args, **kwargs):
        if not self.credentials.get("access_token"):
            raise base.AuthError("No Mastodon access token is stored for this account.")
        try:
            return fn(*args, **kwargs)
        except MastodonRatelimitError as exc:
            reset = parse_reset(
                header(self._last_headers, "X-RateLimit-Reset"),
                retry_after=header(self._last_headers, "Retry-After"),
            )
            raise base.RateLimited(f"Mastodon rate limit: {exc}", reset_at=reset) from exc
        except MastodonUnauthorizedError as exc:
            raise base.AuthError(f"Mastodon rejected the access token: {_reason(exc)}") from exc
        except (MastodonNetworkError, MastodonServerError) as exc:
            raise base.TransientError(f"Mastodon did not answer: {_reason(exc)}") from exc
        except MastodonNotFoundError as exc:
            raise base.InvalidRequest(f"Not found on Mastodon: {_reason(exc)}") from exc
        except MastodonAPIError as exc:
            status = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            if status == 403:
                raise base.AuthError(
                    f"Mastodon refused the token's access: {_reason(exc)}"
                ) from exc
            if status >= 500 or status in (408, 409):
                raise base.TransientError(f"Mastodon server error: {_reason(exc)}") from exc
            raise base.InvalidRequest(f"Mastodon refused the request: {_reason(exc)}") from exc
        except MastodonError as exc:
            raise base.InvalidRequest(f"Mastodon: {exc}") from exc

    # -- identity ---------------------------------------------------------------------

    def _my_account(self) -> dict[str, Any]:
        if self._me is None:
            self._me = plain(self._call(self.api.account_verify_credentials))
        return self._me

    def verify(self) -> Author:
        self._me = None
        return self._author(self._my_account())

    def _acct(self, account: dict[str, Any]) -> str:
        acct = text_of(account.get("acct"))
        if not acct:
            raise ValueError("account without acct")
        if "@" in acct:
            return acct.lower()
        domain = urlsplit(text_of(account.get("url"))).netloc or self.host
        return f"{acct}@{domain}".lower()

    def _author(self, account: Any) -> Author:
        if not isinstance(account, dict):
            raise ValueError("missing account")
        acct = self._acct(account)
        return Author(
            external_id=acct,
            handle=acct,
            display_name=text_of(account.get("display_name")),
            profile_url=text_of(account.get("url")),
            avatar_url=text_of(account.get("avatar")),
            follower_count=int_or_none(account.get("followers_count")),
        )

    def _status_id(self, status_id: Any) -> str:
        return f"{self.host}/s/{status_id}"

    def _local_id(self, external_id: str) -> str:
        """The instance's own status id from one of our external ids (or a bare id)."""
        prefix = f"{self.host}/s/"
        if external_id.startswith(prefix):
            return external_id.removeprefix(prefix)
        if external_id.isdigit():
            return external_id
        # A post we know through another instance: let ours resolve it by URL.
        found = self._call(self.api.search_v2, external_id, resolve=True, result_type="statuses")
        statuses = found.get("statuses") or []
        if not statuses:
            raise base.InvalidRequest("This instance cannot find the post.")
        return str(statuses[0]["id"])

    # -- reading ----------------------------------------------------------------------

    def fetch(self, stream: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        limit = min(limit, MAX_LIMIT)
        if stream == "notifications":
            page = plain(self._call(self.api.notifications, min_id=cursor, limit=limit))
            return self._notification_page(page, cursor, limit, newest=True)
        if stream == "dms":
            return self._fetch_dms(cursor, limit)
        raise base.InvalidRequest(f"Mastodon has no stream {stream!r}")

    def backfill(self, stream: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        limit = min(limit, MAX_LIMIT)
        if stream == "notifications":
            page = plain(self._call(self.api.notifications, max_id=cursor, limit=limit))
            return self._notification_page(page, cursor, limit, newest=False)
        if stream == "dms":
            page = self._call(self.api.conversations, max_id=cursor, limit=min(limit, 40))
            following = getattr(page, "_pagination_next", None) or {}
            rows = plain(page)
            items, failed = self._conversation_statuses(rows, after=None)
            next_cursor = str(following["max_id"]) if rows and following.get("max_id") else None
            return FetchResult(items, failed, next_cursor, bool(next_cursor))
        raise base.InvalidRequest(f"Mastodon has no stream {stream!r}")

    def _notification_page(
        self, page: list[dict], cursor: str | None, limit: int, *, newest: bool
    ) -> FetchResult:
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        ids = [str(n.get("id")) for n in page if isinstance(n, dict) and n.get("id") is not None]
        for note in sorted(page, key=lambda n: id_key(str(n.get("id", "")))):
            try:
                item = self._notification(note)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                failed.append(
                    FailedItem(
                        f"{self.host}/n/{note.get('id')}",
                        f"Malformed notification: {exc}",
                        note,
                    )
                )
                continue
            if item is not None:
                items.append(item)
        if newest:
            next_cursor = max(ids, key=id_key) if ids else cursor
        else:
            next_cursor = min(ids, key=id_key) if ids else None
        return FetchResult(items, failed, next_cursor, bool(page))

    def _notification(self, note: dict[str, Any]) -> Interaction | None:
        kind = note.get("type")
        if kind not in TYPES:
            return None
        author = self._author(note.get("account"))
        occurred_at = parse_time(note.get("created_at"))
        status = note.get("status")
        if kind in {"mention", "quote"}:
            if not isinstance(status, dict):
                raise ValueError(f"{kind} notification without a status")
            item = self._status(status, kind=EntryKind.QUOTE if kind == "quote" else None)
            return item
        if kind == "follow":
            return Interaction(
                network=NETWORK,
                external_id=f"{self.host}/n/{note['id']}",
                kind=EntryKind.FOLLOW,
                author=author,
                occurred_at=occurred_at,
                url=author.profile_url,
                raw=note,
            )
        if not isinstance(status, dict):
            raise ValueError(f"{kind} notification without a status")
        return Interaction(
            network=NETWORK,
            external_id=f"{self.host}/n/{note['id']}",
            kind=KIND[kind],
            author=author,
            occurred_at=occurred_at,
            url=text_of(status.get("url")),
            in_reply_to=self._status_id(status["id"]),
            raw=note,
        )

    def _status(self, status: dict[str, Any], *, kind: str | None = None) -> Interaction:
        """A status addressed to us: a DM if direct, else a reply, quote or mention."""
        if status.get("id") is None:
            raise ValueError("status without an id")
        author = self._author(status.get("account"))
        me = self._me.get("id") if self._me else None
        direct = status.get("visibility") == "direct"
        quoted = status.get("quote") or {}
        quoted_id = (
            (quoted.get("quoted_status") or {}).get("id") if isinstance(quoted, dict) else None
        )
        if kind is None:
            if direct:
                kind = EntryKind.DM
            elif status.get("in_reply_to_id"):
                kind = EntryKind.REPLY
            elif quoted_id:
                kind = EntryKind.QUOTE
            else:
                kind = EntryKind.MENTION
        outbound = bool(me) and str((status.get("account") or {}).get("id")) == str(me)
        reply_to = status.get("in_reply_to_id")
        return Interaction(
            network=NETWORK,
            external_id=self._status_id(status["id"]),
            kind=kind,
            author=author,
            occurred_at=parse_time(status.get("created_at")),
            text=html_to_text(status.get("content")),
            url=text_of(status.get("url")) or text_of(status.get("uri")),
            in_reply_to=self._status_id(reply_to)
            if reply_to
            else (self._status_id(quoted_id) if quoted_id else ""),
            thread_id="",
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            like_count=int_or_none(status.get("favourites_count")) or 0,
            repost_count=int_or_none(status.get("reblogs_count")) or 0,
            reply_count=int_or_none(status.get("replies_count")) or 0,
            raw=status,
        )

    def _fetch_dms(self, cursor: str | None, limit: int) -> FetchResult:
        """Conversations whose last status is newer than ``cursor`` (a status id)."""
        self._my_account()
        conversations: list[dict] = []
        page = self._call(self.api.conversations, limit=40)
        for _ in range(MAX_WALK_PAGES):
            rows = plain(page)
            fresh = [
                c
                for c in rows
                if cursor is None
                or id_key(str((c.get("last_status") or {}).get("id", "0"))) > id_key(cursor)
            ]
            conversations.extend(fresh)
            if cursor is None or len(fresh) < len(rows) or not rows:
                break
            page = self._call(self.api.fetch_next, page)
            if not page:
                break
        items, failed = self._conversation_statuses(conversations, after=cursor)
        items.sort(key=lambda i: id_key(i.external_id.rsplit("/", 1)[-1]))
        taken, more = items[:limit], len(items) > limit
        stored_ids = [i.external_id.rsplit("/", 1)[-1] for i in taken]
        stored_ids += [f.external_id.rsplit("/", 1)[-1] for f in failed if not more]
        next_cursor = max(stored_ids, key=id_key) if stored_ids else cursor
        return FetchResult(taken, failed, next_cursor, more)

    def _conversation_statuses(
        self, conversations: list[dict], *, after: str | None
    ) -> tuple[list[Interaction], list[FailedItem]]:
        """The direct statuses of these conversations newer than ``after``: the last one,
        and earlier ones from its thread when there may be more than one new."""
        self._my_account()
        items: dict[str, Interaction] = {}
        failed: list[FailedItem] = []
        for conversation in conversations:
            last = conversation.get("last_status")
            if not isinstance(last, dict):
                failed.append(
                    FailedItem(
                        f"{self.host}/c/{conversation.get('id')}",
                        "Conversation without a last status",
                        conversation,
                    )
                )
                continue
            statuses = [last]
            if after is not None and last.get("in_reply_to_id"):
                context = plain(self._call(self.api.status_context, last["id"]))
                statuses += [
                    s
                    for s in context.get("ancestors") or []
                    if s.get("visibility") == "direct" and id_key(str(s.get("id"))) > id_key(after)
                ]
            for status in statuses:
                try:
                    item = self._status(status, kind=EntryKind.DM)
                except (ValueError, TypeError, AttributeError, KeyError) as exc:
                    failed.append(
                        FailedItem(
                            self._status_id(status.get("id")), f"Malformed message: {exc}", status
                        )
                    )
                    continue
                if item.direction == Direction.OUTBOUND:
                    others = [
                        a
                        for a in conversation.get("accounts") or []
                        if str(a.get("id")) != str(self._me.get("id"))
                    ]
                    if others:
                        item = _with_author(item, self._author(others[0]))
                items[item.external_id] = _with_thread(item, str(conversation.get("id", "")))
        return list(items.values()), failed

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """Posts newer than ``cursor`` (a status id): the hashtag timeline for ``#tag``,
        else full-text search."""
        limit = min(limit, 40)
        if query.startswith("#") and " " not in query.strip():
            page = plain(
                self._call(self.api.timeline_hashtag, query.strip()[1:], min_id=cursor, limit=limit)
            )
        else:
            found = self._call(
                self.api.search_v2,
                query,
                resolve=False,
                result_type="statuses",
                min_id=cursor,
                limit=limit,
            )
            page = plain(found.get("statuses") or [])
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for status in sorted(page, key=lambda s: id_key(str(s.get("id", "")))):
            try:
                item = self._status(status, kind=EntryKind.POST)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                failed.append(
                    FailedItem(self._status_id(status.get("id")), f"Malformed post: {exc}", status)
                )
                continue
            items.append(item)
        ids = [str(s["id"]) for s in page if s.get("id") is not None]
        next_cursor = max(ids, key=id_key) if ids else cursor
        return FetchResult(items, failed, next_cursor, bool(page))

    # -- writing ----------------------------------------------------------------------

    def _sent(self, status: Any) -> Sent:
        status = plain(status)
        return Sent(
            external_id=self._status_id(status["id"]),
            url=text_of(status.get("url")),
            raw=status,
        )

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        local_id = self._local_id(in_reply_to)
        parent = plain(self._call(self.api.status, local_id))
        acct = text_of((parent.get("account") or {}).get("acct"))
        me = self._my_account()
        if acct and acct != me.get("acct") and f"@{acct}" not in text:
            text = f"@{acct} {text}"
        visibility = parent.get("visibility")
        status = self._call(
            self.api.status_post,
            text,
            in_reply_to_id=local_id,
            visibility=visibility if visibility in {"direct", "private", "unlisted"} else None,
            idempotency_key=idempotency_key,
        )
        return self._sent(status)

    def post(self, *, text: str, idempotency_key: str) -> Sent:
        return self._sent(self._call(self.api.status_post, text, idempotency_key=idempotency_key))

    def send_dm(
        self,
        *,
        recipient: Author,
        text: str,
        thread_id: str,
        idempotency_key: str,
        in_reply_to: str = "",
    ) -> Sent:
        handle = recipient.handle.lstrip("@")
        # Someone on our own instance is mentioned as @user: real servers also accept
        # @user@our.domain, but not every server (mastodon_mock does not) resolves it.
        own = urlsplit(text_of(self._my_account().get("url"))).netloc.lower()
        if own and handle.lower().endswith(f"@{own}"):
            handle = handle[: -len(own) - 1]
        if f"@{handle}" not in text:
            text = f"@{handle} {text}"
        # The thread continues as a reply to its latest status; a Mastodon server groups
        # a conversation by that chain, so without it the DM would start a new one.
        status = self._call(
            self.api.status_post,
            text,
            in_reply_to_id=self._local_id(in_reply_to) if in_reply_to else None,
            visibility="direct",
            idempotency_key=idempotency_key,
        )
        return self._sent(status)

    def like(self, *, external_id: str) -> Sent:
        local_id = self._local_id(external_id)
        return self._sent(self._call(self.api.status_favourite, local_id))

    def follow(self, *, author: Author) -> Sent:
        account = plain(self._call(self.api.account_lookup, author.handle.lstrip("@")))
        self._call(self.api.account_follow, account["id"])
        return Sent(external_id=author.external_id, url=text_of(account.get("url")), raw=account)


def _reason(exc: Exception) -> str:
    args = [a for a in exc.args[1:] if a]
    return " ".join(str(a) for a in args) or str(exc)


def _with_author(item: Interaction, author: Author) -> Interaction:
    from dataclasses import replace

    return replace(item, author=author)


def _with_thread(item: Interaction, thread_id: str) -> Interaction:
    from dataclasses import replace

    return replace(item, thread_id=thread_id)
