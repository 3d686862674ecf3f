"""Mastodon, on ``Mastodon.py``.

Streams:

``notifications``  mention (reply when it answers a post), reblog → repost,
                   favourite → like, follow, quote. Our cursor is the newest notification
                   id stored; ``min_id`` asks for the page right after it. A first poll
                   (no cursor) walks the served history back with ``max_id``.
``dms``            direct conversations, in order of their last status, walked back to
                   our cursor (the newest last-status id stored).

``fetch_page`` reads ONE page for a stream's state (``base.StreamState``) and returns the
state after it; the sync engine stores both in one transaction.

Ids are local to an instance, and one company may connect accounts on several, so
external ids carry the instance: ``<host>/s/<status id>`` for a post or DM,
``<host>/n/<notification id>`` for a like, repost or follow. An author is keyed by the
webfinger address ``user@domain``, the same from every instance. ``status_post`` sends an
``Idempotency-Key``, so a retried reply or DM is posted once (``idempotent_sends``).
"""

from __future__ import annotations

from dataclasses import replace
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
#: Error params naming the network (for the translated stream error).
WHO = {"network": "Mastodon"}


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
    max_page: ClassVar[int] = MAX_LIMIT
    #: Mastodon deduplicates ``status_post`` by ``Idempotency-Key``: a send whose outcome
    #: is unknown may be retried with the same key.
    idempotent_sends: ClassVar[bool] = True
    private_replies: ClassVar[bool] = False

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
            raise base.RateLimited(
                f"Mastodon rate limit: {exc}", reset_at=reset, params=WHO
            ) from exc
        except MastodonUnauthorizedError as exc:
            raise base.AuthError(
                f"Mastodon rejected the access token: {_reason(exc)}", params=WHO
            ) from exc
        except MastodonNetworkError as exc:
            raise base.TransientError(
                f"Mastodon did not answer: {_reason(exc)}", params=WHO
            ) from exc
        except MastodonServerError as exc:
            raise base.TransientError(
                f"Mastodon did not answer: {_reason(exc)}",
                code="server_error",
                params={**WHO, "status": _status(exc)},
            ) from exc
        except MastodonNotFoundError as exc:
            raise base.InvalidRequest(f"Not found on Mastodon: {_reason(exc)}", params=WHO) from exc
        except MastodonAPIError as exc:
            status = _status(exc)
            if status == 403:
                raise base.AuthError(
                    f"Mastodon refused the token's access: {_reason(exc)}", params=WHO
                ) from exc
            if status >= 500 or status in (408, 409):
                raise base.TransientError(
                    f"Mastodon server error: {_reason(exc)}",
                    code="server_error",
                    params={**WHO, "status": status},
                ) from exc
            raise base.InvalidRequest(
                f"Mastodon refused the request: {_reason(exc)}", params=WHO
            ) from exc
        except MastodonError as exc:
            raise base.InvalidRequest(f"Mastodon: {exc}", params=WHO) from exc

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
        if external_id.isascii() and external_id.isdigit():
            return external_id
        # A post we know through another instance: let ours resolve it by URL.
        found = self._call(self.api.search_v2, external_id, resolve=True, result_type="statuses")
        statuses = found.get("statuses") or []
        if not statuses:
            raise base.InvalidRequest("This instance cannot find the post.")
        return str(statuses[0]["id"])

    # -- reading ----------------------------------------------------------------------

    def fetch_page(self, stream: str, state: StreamState, *, limit: int) -> Page:
        """Notifications walk forward from the cursor with ``min_id``; a stream without
        a cursor first walks back through the history the server serves (``max_id``,
        newest first, at most ``state.history_pages`` pages). DMs (conversations, in
        order of their last message) walk back to the cursor."""
        limit = min(limit, MAX_LIMIT)
        if stream == "notifications":
            if state.cursor and not state.walking:
                page = self._call(self.api.notifications, min_id=state.cursor, limit=limit)
                rows = plain(page)
                items, failed = self._notification_items(rows)
                newest = max(rows, key=lambda n: id_key(str(n.get("id", ""))), default=None)
                if newest is None:
                    return Page(items, failed, state, more=False)
                moved = replace(state, cursor=str(newest["id"]), cursor_at=_time_or_none(newest))
                return Page(items, failed, moved, more=True)
            page = self._call(self.api.notifications, max_id=state.position or None, limit=limit)
            following = getattr(page, "_pagination_next", None) or {}
            rows = plain(page)
            keyed = [
                Keyed(n, str(n["id"]), id_key(str(n["id"])), _time_or_none(n))
                if isinstance(n, dict) and n.get("id") is not None
                else Keyed(n)
                for n in rows
            ]
            ids = [k.key for k in keyed if k.key]
            next_position = min(ids, key=id_key) if rows and ids else None
            if not following.get("max_id"):
                next_position = None
            keep, moved, more, gap, limited = walk_back_step(
                state, keyed, next_position=next_position, order_of=id_key
            )
            items, failed = self._notification_items(keep)
            return Page(items, failed, moved, more, gap, limited)
        if stream == "dms":
            return self._dm_page(state, min(limit, 40))
        raise base.InvalidRequest(f"Mastodon has no stream {stream!r}")

    def _dm_page(self, state: StreamState, limit: int) -> Page:
        self._my_account()
        page = self._call(self.api.conversations, max_id=state.position or None, limit=limit)
        following = getattr(page, "_pagination_next", None) or {}
        rows = plain(page)
        keyed = []
        for conversation in rows:
            last = conversation.get("last_status") if isinstance(conversation, dict) else None
            if isinstance(last, dict) and last.get("id") is not None:
                key = str(last["id"])
                keyed.append(Keyed(conversation, key, id_key(key), _time_or_none(last)))
            else:
                keyed.append(Keyed(conversation))
        next_position = str(following["max_id"]) if rows and following.get("max_id") else None
        keep, moved, more, gap, limited = walk_back_step(
            state, keyed, next_position=next_position, order_of=id_key
        )
        items, failed = self._conversation_statuses(keep)
        return Page(items, failed, moved, more, gap, limited)

    def _notification_items(self, page: list[dict]) -> tuple[list[Interaction], list[FailedItem]]:
        items: list[Interaction] = []
        failed: list[FailedItem] = []
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
        return items, failed

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

    def _conversation_statuses(
        self, conversations: list[dict]
    ) -> tuple[list[Interaction], list[FailedItem]]:
        """The direct statuses of these conversations: the last one and the direct
        statuses of its thread (those already stored add nothing: the upsert), so a
        message that arrived while its conversation sat deeper in the list is not lost
        when the conversation jumps to the top."""
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
            if last.get("in_reply_to_id"):
                context = plain(self._call(self.api.status_context, last["id"]))
                statuses += [
                    s for s in context.get("ancestors") or [] if s.get("visibility") == "direct"
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

    def private_reply(self, *, comment_id: str, recipient: Author, text: str) -> Sent:
        raise base.InvalidRequest("Mastodon has no private replies: send a direct message.")

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


def _time_or_none(row: dict[str, Any]) -> datetime | None:
    try:
        return parse_time(row.get("created_at"))
    except (ValueError, TypeError):
        return None


def _status(exc: Exception) -> int:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0


def _reason(exc: Exception) -> str:
    args = [a for a in exc.args[1:] if a]
    return " ".join(str(a) for a in args) or str(exc)


def _with_author(item: Interaction, author: Author) -> Interaction:
    return replace(item, author=author)


def _with_thread(item: Interaction, thread_id: str) -> Interaction:
    return replace(item, thread_id=thread_id)
