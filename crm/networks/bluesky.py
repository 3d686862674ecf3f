"""Bluesky, on the ``atproto`` SDK.

Streams:

``notifications``  ``app.bsky.notification.listNotifications``: mention, reply, quote,
                   follow, like, repost. The API pages from the newest back; a cursor of
                   ours is the sort key ``indexedAt|uri`` of the newest item stored;
                   ``fetch_page`` reads one page of the walk back to it (the API's
                   cursor is the walk's position, kept on the stream between pages).
``dms``            ``chat.bsky.convo.listConvos`` / ``getMessages`` through the PDS with
                   the ``atproto-proxy`` header for the chat service. Our cursor is a JSON
                   object ``{convo id: rev of the newest message stored}``.

Responses are read as plain JSON (``invoke_query``) rather than SDK models, so one
malformed notification becomes a ``FailedItem`` instead of failing its page.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

import httpx
from atproto import Client, client_utils, models
from atproto.exceptions import (
    AtProtocolError,
    BadRequestError,
    InvokeTimeoutError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.models.dot_dict import DotDict

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
from .common import chunks, header, int_or_none, parse_reset, parse_time, text_of

NETWORK = Network.BLUESKY
DEFAULT_PDS = "https://bsky.social"
POST_REASONS = {"mention": EntryKind.MENTION, "reply": EntryKind.REPLY, "quote": EntryKind.QUOTE}
OTHER_REASONS = {"like": EntryKind.LIKE, "repost": EntryKind.REPOST, "follow": EntryKind.FOLLOW}
# When a post both mentions us and replies to us, the AppView sends two notifications
# with the same URI: keep the most specific.
_PRIORITY = {"reply": 3, "quote": 2, "mention": 1}
_AUTH_ERRORS = {"AuthenticationRequired", "InvalidToken", "ExpiredToken", "AccountTakedown"}
#: Pages of conversations and of one conversation's messages a DM sync reads at most.
MAX_WALK_PAGES = 50
#: listNotifications serves at most 100 a page.
MAX_LIMIT = 100
#: Error params naming the network (for the translated stream error).
WHO = {"network": "Bluesky"}


def _raise_mapped(exc: Exception, *, chat: bool = False) -> None:
    """Re-raise an SDK/transport error as one of ``base``'s errors (``chat``: the call
    went to the chat service, which the translated error names)."""
    if isinstance(exc, RateLimitExceededError):
        headers = exc.response.headers if exc.response is not None else None
        reset = parse_reset(
            header(headers, "RateLimit-Reset"), retry_after=header(headers, "Retry-After")
        )
        raise base.RateLimited(f"Bluesky rate limit: {exc}", reset_at=reset, params=WHO) from exc
    if isinstance(exc, UnauthorizedError):
        raise base.AuthError(f"Bluesky rejected the credentials: {exc}", params=WHO) from exc
    if isinstance(exc, InvokeTimeoutError | NetworkError | httpx.TransportError):
        raise base.TransientError(f"Bluesky did not answer: {exc!r}", params=WHO) from exc
    if isinstance(exc, BadRequestError):
        content = exc.response.content if exc.response is not None else None
        if getattr(content, "error", None) in _AUTH_ERRORS:
            raise base.AuthError(f"Bluesky rejected the credentials: {exc}", params=WHO) from exc
        raise base.InvalidRequest(f"Bluesky refused the request: {exc}", params=WHO) from exc
    if isinstance(exc, RequestException):
        status = exc.response.status_code if exc.response is not None else 0
        if status >= 500:
            service = "chat service" if chat else "server"
            raise base.TransientError(
                f"Bluesky {service} error: {status} {exc}",
                code="chat_error" if chat else "server_error",
                params={**WHO, "status": status},
            ) from exc
        raise base.InvalidRequest(f"Bluesky refused the request: {exc}", params=WHO) from exc
    if isinstance(exc, ModelError):
        raise base.InvalidRequest(
            f"Bluesky answered something unexpected: {exc}", params=WHO
        ) from exc
    raise base.NetworkError(f"Bluesky: {exc!r}", params=WHO) from exc


def _post_url(uri: str, handle: str) -> str:
    # at://did/app.bsky.feed.post/rkey -> https://bsky.app/profile/handle/post/rkey
    parts = uri.removeprefix("at://").split("/")
    if len(parts) == 3 and parts[1] == "app.bsky.feed.post":
        return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"
    return ""


def _author(profile: dict[str, Any]) -> Author:
    did = profile.get("did")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise ValueError("author without a DID")
    handle = text_of(profile.get("handle")) or did
    return Author(
        external_id=did,
        handle=handle,
        display_name=text_of(profile.get("displayName")),
        profile_url=f"https://bsky.app/profile/{handle}",
        avatar_url=text_of(profile.get("avatar")),
        follower_count=int_or_none(profile.get("followersCount")),
    )


def _notification_key(item: dict[str, Any]) -> tuple[datetime, str]:
    return (parse_time(item.get("indexedAt")), str(item.get("uri", "")))


def _encode_key(key: tuple[datetime, str]) -> str:
    return f"{key[0].isoformat()}|{key[1]}"


def _decode_key(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    when, _, uri = cursor.partition("|")
    return (parse_time(when), uri)


class Adapter:
    network: ClassVar[str] = NETWORK
    streams: ClassVar[tuple[str, ...]] = ("notifications", "dms")
    max_page: ClassVar[int] = MAX_LIMIT
    idempotent_sends: ClassVar[bool] = False
    private_replies: ClassVar[bool] = False

    def __init__(self, *, base_url: str, handle: str, credentials: dict, did: str = ""):
        self.base_url = (base_url or DEFAULT_PDS).rstrip("/")
        self.handle = handle
        self.credentials = dict(credentials or {})
        self.did = did
        self._client: Client | None = None
        self._session_string: str | None = None

    # -- construction and login -----------------------------------------------------

    @classmethod
    def from_account(cls, account: Any) -> Adapter:
        return cls(
            base_url=account.base_url,
            handle=account.handle,
            credentials=account.credentials or {},
            did=account.external_id,
        )

    @classmethod
    def from_credentials(cls, *, base_url: str, handle: str, credentials: dict) -> Adapter:
        return cls(base_url=base_url, handle=handle, credentials=credentials)

    def _new_client(self) -> Client:
        client = Client(base_url=f"{self.base_url}/xrpc")
        client.on_session_change(lambda _event, _session: self._remember_session(client))
        return client

    def _remember_session(self, client: Client) -> None:
        self._session_string = client.export_session_string()

    def _login(self, *, fresh: bool = False) -> Client:
        """A logged-in client: the stored session when there is one (a login costs a
        password hash on the PDS and is rate limited), else the app password."""
        if self._client is not None and not fresh:
            return self._client
        session = None if fresh else self.credentials.get("session")
        client = self._new_client()
        try:
            if session:
                try:
                    client.login(session_string=session, fetch_bsky_profile=False)
                    client.com.atproto.server.get_session()
                except (UnauthorizedError, BadRequestError):
                    client = self._new_client()
                    session = None
            if not session:
                password = self.credentials.get("app_password") or self.credentials.get("password")
                if not password:
                    raise base.AuthError("No Bluesky app password is stored for this account.")
                client.login(self.handle, password, fetch_bsky_profile=False)
        except (AtProtocolError, httpx.TransportError) as exc:
            try:
                _raise_mapped(exc)
            except base.NetworkError as mapped:
                # Nothing is sent before the login is done: a login that timed out or
                # hung up posted nothing (the send says so, not "may or may not").
                mapped.before_sending = True
                raise
        self.did = client.me.did if client.me else (client._session.did if client._session else "")
        self._client = client
        return client

    def updated_credentials(self) -> dict | None:
        """Credentials to store when the session changed (so the next run need not log
        in again), else None."""
        if self._session_string and self._session_string != self.credentials.get("session"):
            return {**self.credentials, "session": self._session_string}
        return None

    def _query(self, nsid: str, params: dict[str, Any], *, chat: bool = False) -> dict[str, Any]:
        client = self._login()
        if chat:
            client = client.with_bsky_chat_proxy()
        clean = {k: v for k, v in params.items() if v is not None}
        try:
            response = client.invoke_query(nsid, params=DotDict(clean) if clean else None)
        except UnauthorizedError as exc:
            if chat:
                # The login works, only the chat service says no: an app password made
                # without "allow access to direct messages". Other streams still sync.
                raise base.InvalidRequest(
                    "This app password has no access to direct messages; "
                    "create one with DM access to sync DMs.",
                    code="no_dm_access",
                ) from exc
            _raise_mapped(exc)
        except (AtProtocolError, httpx.TransportError) as exc:
            _raise_mapped(exc, chat=chat)
        content = response.content
        if not isinstance(content, dict):
            raise base.InvalidRequest(f"Bluesky answered {nsid} with something that is not JSON")
        return content

    def _call(self, fn, *args, **kwargs):
        """Run one of the SDK's write helpers (they need the profile of ``me``)."""
        client = self._login()
        try:
            if client.me is None:
                client.me = client.app.bsky.actor.get_profile(
                    models.AppBskyActorGetProfile.Params(actor=client._session.did)
                )
            return fn(*args, **kwargs)
        except (AtProtocolError, httpx.TransportError) as exc:
            _raise_mapped(exc)

    def verify(self) -> Author:
        client = self._login(fresh=True)
        try:
            profile = client.app.bsky.actor.get_profile(
                models.AppBskyActorGetProfile.Params(actor=client._session.did)
            )
        except (AtProtocolError, httpx.TransportError) as exc:
            _raise_mapped(exc)
        data = profile.model_dump(by_alias=True)
        self.did = data["did"]
        return _author(data)

    # -- reading ----------------------------------------------------------------------

    def fetch_page(self, stream: str, state: StreamState, *, limit: int) -> Page:
        """Notifications: one page of a newest-first walk back to the cursor (the sort
        key ``indexedAt|uri`` of the newest stored), the API's cursor as the walk's
        position. DMs: the conversations with a newer message than our per-conversation
        cursor, oldest first."""
        limit = min(limit, MAX_LIMIT)
        if stream == "notifications":
            return self._notifications_page(state, limit)
        if stream == "dms":
            cursor = state.cursor or None
            if state.walking or not cursor:
                return self._dm_history_page(state, limit)
            page = self._fetch_dms(cursor, limit)
            return Page(
                page.items, page.failed, replace(state, cursor=page.cursor or ""), page.has_more
            )
        raise base.InvalidRequest(f"Bluesky has no stream {stream!r}")

    def _notifications_page(self, state: StreamState, limit: int) -> Page:
        page = self._query(
            "app.bsky.notification.listNotifications",
            {"limit": limit, "cursor": state.position or None},
        )
        raw = page.get("notifications") or []
        keyed = []
        for item in raw:
            try:
                key = _notification_key(item)
            except (ValueError, AttributeError, TypeError):
                keyed.append(Keyed(item))
                continue
            keyed.append(Keyed(item, _encode_key(key), key, key[0]))
        next_position = page.get("cursor") if raw else None
        keep, moved, more, gap, limited = walk_back_step(
            state, keyed, next_position=next_position, order_of=_decode_key
        )
        items, failed = self._normalise_notifications(keep)
        return Page(items, failed, moved, more, gap, limited)

    def _dm_history_page(self, state: StreamState, limit: int) -> Page:
        """A first poll of DMs: one page of one conversation's history per call (the
        walk's position holds the conversations still to read); the forward cursor
        ``{convo: newest rev}`` is taken from the conversation list when it starts."""
        if not state.walking:
            convos = self._convos()
            seen = {
                c["id"]: str((c.get("lastMessage") or {}).get("rev", ""))
                for c in convos
                if c.get("id")
            }
            state = replace(
                state,
                walking=True,
                top=json.dumps(seen, sort_keys=True),
                position=json.dumps({"todo": sorted(seen), "at": None}),
                pages=0,
            )
        page = self._backfill_dms(state.position, limit)
        page.items.sort(key=lambda i: (i.occurred_at, i.external_id))
        pages = state.pages + 1
        if page.has_more and pages < state.history_pages * 10:
            return Page(
                page.items, page.failed, replace(state, position=page.cursor, pages=pages), True
            )
        closed = replace(state, cursor=state.top, walking=False, position="", top="", pages=0)
        return Page(page.items, page.failed, closed, False)

    def _normalise_notifications(
        self, raw: list[dict[str, Any]]
    ) -> tuple[list[Interaction], list[FailedItem]]:
        by_id: dict[str, Interaction] = {}
        failed: list[FailedItem] = []
        for item in raw:
            try:
                interaction = self._notification(item)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                external_id = str(item.get("uri") or "") if isinstance(item, dict) else ""
                failed.append(
                    FailedItem(
                        external_id or f"bluesky:malformed:{hash(json.dumps(item, default=str))}",
                        f"Malformed notification: {exc}",
                        item if isinstance(item, dict) else {"value": repr(item)},
                    )
                )
                continue
            if interaction is None:
                continue
            seen = by_id.get(interaction.external_id)
            if seen is None or _PRIORITY.get(interaction.kind, 0) > _PRIORITY.get(seen.kind, 0):
                by_id[interaction.external_id] = interaction
        items = sorted(by_id.values(), key=lambda i: (i.occurred_at, i.external_id))
        return self._enrich(items), failed

    def _notification(self, item: dict[str, Any]) -> Interaction | None:
        reason = item.get("reason")
        if reason not in POST_REASONS and reason not in OTHER_REASONS:
            return None  # starterpack-joined, verified, ...: nothing for a timeline
        uri = item.get("uri")
        if not isinstance(uri, str) or not uri.startswith("at://"):
            raise ValueError("notification without an at:// URI")
        author = _author(item.get("author") or {})
        occurred_at = parse_time(item.get("indexedAt"))
        record = item.get("record") or {}
        if not isinstance(record, dict):
            raise ValueError("record is not an object")
        if reason in POST_REASONS:
            text = text_of(record.get("text"))
            reply = record.get("reply") or {}
            parent = (reply.get("parent") or {}).get("uri", "")
            root = (reply.get("root") or {}).get("uri", "")
            quoted = _quoted_uri(record.get("embed"))
            return Interaction(
                network=NETWORK,
                external_id=uri,
                kind=POST_REASONS[reason],
                author=author,
                occurred_at=occurred_at,
                text=text,
                url=_post_url(uri, author.handle),
                in_reply_to=parent or quoted,
                thread_id=root or uri,
                raw=item,
            )
        subject = text_of(item.get("reasonSubject"))
        return Interaction(
            network=NETWORK,
            external_id=uri,
            kind=OTHER_REASONS[reason],
            author=author,
            occurred_at=occurred_at,
            url=_post_url(subject, self.handle) if subject else author.profile_url,
            in_reply_to=subject,
            raw=item,
        )

    def _enrich(self, items: list[Interaction]) -> list[Interaction]:
        """Follower counts (getProfiles) and engagement counts (getPosts), 25 at a time.
        Best effort: a refusal leaves the counts empty, a rate limit still raises."""
        if not items:
            return items
        profiles: dict[str, dict] = {}
        posts: dict[str, dict] = {}
        dids = sorted({i.author.external_id for i in items})
        uris = sorted({i.external_id for i in items if i.kind in POST_REASONS.values()})
        try:
            for batch in chunks(dids, 25):
                page = self._query("app.bsky.actor.getProfiles", {"actors": batch})
                profiles.update({p["did"]: p for p in page.get("profiles") or [] if "did" in p})
            for batch in chunks(uris, 25):
                page = self._query("app.bsky.feed.getPosts", {"uris": batch})
                posts.update({p["uri"]: p for p in page.get("posts") or [] if "uri" in p})
        except base.InvalidRequest:
            pass
        enriched = []
        for item in items:
            author = item.author
            profile = profiles.get(author.external_id)
            if profile:
                author = replace(author, follower_count=int_or_none(profile.get("followersCount")))
            post = posts.get(item.external_id) or {}
            enriched.append(
                replace(
                    item,
                    author=author,
                    like_count=int_or_none(post.get("likeCount")) or 0,
                    repost_count=int_or_none(post.get("repostCount")) or 0,
                    reply_count=int_or_none(post.get("replyCount")) or 0,
                )
            )
        return enriched

    # -- direct messages (chat.bsky.convo.*) -----------------------------------------

    def _convos(self) -> list[dict[str, Any]]:
        convos: list[dict[str, Any]] = []
        api_cursor = None
        for _ in range(MAX_WALK_PAGES):
            page = self._query(
                "chat.bsky.convo.listConvos", {"limit": 100, "cursor": api_cursor}, chat=True
            )
            convos.extend(page.get("convos") or [])
            api_cursor = page.get("cursor")
            if not api_cursor or not page.get("convos"):
                break
        return convos

    def _messages(self, convo_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
        return self._query(
            "chat.bsky.convo.getMessages",
            {"convoId": convo_id, "limit": limit, "cursor": cursor},
            chat=True,
        )

    def _fetch_dms(self, cursor: str | None, limit: int) -> FetchResult:
        try:
            seen: dict[str, str] = json.loads(cursor) if cursor else {}
        except ValueError:
            seen = {}
        if not isinstance(seen, dict):
            seen = {}
        pending: list[tuple[str, str, dict, dict]] = []  # (rev, msg id, message, convo)
        for convo in self._convos():
            convo_id = convo.get("id")
            last = convo.get("lastMessage") or {}
            if not convo_id or str(last.get("rev", "")) <= seen.get(convo_id, ""):
                continue
            stop = seen.get(convo_id)
            api_cursor = None
            for _ in range(MAX_WALK_PAGES):
                page = self._messages(convo_id, api_cursor, 100 if stop else limit)
                messages = page.get("messages") or []
                reached = False
                for message in messages:
                    rev = str(message.get("rev", ""))
                    if stop and rev <= stop:
                        reached = True
                        break
                    pending.append((rev, str(message.get("id", "")), message, convo))
                api_cursor = page.get("cursor")
                if reached or not stop or not api_cursor or not messages:
                    break
        pending.sort(key=lambda p: (p[2].get("sentAt") or "", p[0]))
        taken = pending[:limit]
        items, failed = self._normalise_messages([(m, c) for _, _, m, c in taken])
        new_seen = dict(seen)
        for rev, _, _, convo in taken:
            if rev > new_seen.get(convo["id"], ""):
                new_seen[convo["id"]] = rev
        return FetchResult(
            items, failed, json.dumps(new_seen, sort_keys=True), len(pending) > limit
        )

    def _backfill_dms(self, cursor: str | None, limit: int) -> FetchResult:
        """One page of one conversation's older messages per call. The cursor holds the
        conversations still to read and where the current one stands."""
        state = json.loads(cursor) if cursor else None
        if not state:
            state = {"todo": [c["id"] for c in self._convos() if c.get("id")], "at": None}
        if not state["todo"]:
            return FetchResult([], [], None, False)
        convo_id = state["todo"][0]
        page = self._messages(convo_id, state.get("at"), limit)
        messages = page.get("messages") or []
        convo = {"id": convo_id, "members": page.get("members") or []}
        if not convo["members"]:
            convo = self._query("chat.bsky.convo.getConvo", {"convoId": convo_id}, chat=True).get(
                "convo"
            ) or {"id": convo_id, "members": []}
        items, failed = self._normalise_messages([(m, convo) for m in messages])
        if page.get("cursor") and messages:
            state["at"] = page["cursor"]
        else:
            state = {"todo": state["todo"][1:], "at": None}
        done = not state["todo"]
        return FetchResult(items, failed, None if done else json.dumps(state), not done)

    def _normalise_messages(
        self, pairs: list[tuple[dict, dict]]
    ) -> tuple[list[Interaction], list[FailedItem]]:
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for message, convo in pairs:
            if message.get("$type", "").endswith("#deletedMessageView"):
                continue
            try:
                items.append(self._message(message, convo))
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                failed.append(
                    FailedItem(
                        str(message.get("id") or f"bluesky:dm:{convo.get('id')}"),
                        f"Malformed message: {exc}",
                        message,
                    )
                )
        return items, failed

    def _message(self, message: dict[str, Any], convo: dict[str, Any]) -> Interaction:
        message_id = message.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise ValueError("message without an id")
        sender = (message.get("sender") or {}).get("did")
        if not sender:
            raise ValueError("message without a sender")
        members = {m.get("did"): m for m in convo.get("members") or [] if isinstance(m, dict)}
        outbound = bool(self.did) and sender == self.did
        others = [m for did, m in members.items() if did != self.did]
        if outbound:
            if not others:
                raise ValueError("conversation without another member")
            person = others[0]
        else:
            person = members.get(sender) or {"did": sender, "handle": sender}
        return Interaction(
            network=NETWORK,
            external_id=message_id,
            kind=EntryKind.DM,
            author=_author(person),
            occurred_at=parse_time(message.get("sentAt")),
            text=text_of(message.get("text")),
            thread_id=str(convo.get("id", "")),
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            raw=message,
        )

    # -- search (listening) -------------------------------------------------------------

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """Newest matching posts first, paging back with the API's cursor."""
        page = self._query(
            "app.bsky.feed.searchPosts",
            {"q": query, "limit": limit, "cursor": cursor, "sort": "latest"},
        )
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for post in page.get("posts") or []:
            try:
                record = post.get("record") or {}
                author = _author(post.get("author") or {})
                uri = post["uri"]
                items.append(
                    Interaction(
                        network=NETWORK,
                        external_id=uri,
                        kind=EntryKind.POST,
                        author=author,
                        occurred_at=parse_time(post.get("indexedAt")),
                        text=text_of(record.get("text")),
                        url=_post_url(uri, author.handle),
                        in_reply_to=((record.get("reply") or {}).get("parent") or {}).get(
                            "uri", ""
                        ),
                        thread_id=((record.get("reply") or {}).get("root") or {}).get("uri", "")
                        or uri,
                        like_count=int_or_none(post.get("likeCount")) or 0,
                        repost_count=int_or_none(post.get("repostCount")) or 0,
                        reply_count=int_or_none(post.get("replyCount")) or 0,
                        raw=post,
                    )
                )
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                failed.append(FailedItem(str(post.get("uri", "")), f"Malformed post: {exc}", post))
        next_cursor = page.get("cursor")
        return FetchResult(items, failed, next_cursor, bool(next_cursor and items))

    # -- writing ----------------------------------------------------------------------

    def _strong_ref(self, uri: str) -> tuple[models.ComAtprotoRepoStrongRef.Main, dict]:
        page = self._query("app.bsky.feed.getPosts", {"uris": [uri]})
        posts = page.get("posts") or []
        if not posts:
            raise base.InvalidRequest("The post no longer exists on Bluesky.")
        post = posts[0]
        return models.ComAtprotoRepoStrongRef.Main(uri=post["uri"], cid=post["cid"]), post

    def _sent(self, response: Any, *, thread_id: str = "") -> Sent:
        uri = response.uri
        return Sent(
            external_id=uri,
            url=_post_url(uri, self.handle),
            thread_id=thread_id or uri,
            raw={"uri": uri, "cid": getattr(response, "cid", "")},
        )

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        parent, post = self._strong_ref(in_reply_to)
        root_ref = ((post.get("record") or {}).get("reply") or {}).get("root")
        root = (
            models.ComAtprotoRepoStrongRef.Main(uri=root_ref["uri"], cid=root_ref["cid"])
            if root_ref
            else parent
        )
        client = self._login()
        response = self._call(
            client.send_post,
            text=client_utils.TextBuilder().text(text),
            reply_to=models.AppBskyFeedPost.ReplyRef(parent=parent, root=root),
        )
        return self._sent(response, thread_id=root.uri)

    def post(self, *, text: str, idempotency_key: str) -> Sent:
        client = self._login()
        return self._sent(self._call(client.send_post, text=client_utils.TextBuilder().text(text)))

    def private_reply(self, *, comment_id: str, recipient: Author, text: str) -> Sent:
        raise base.InvalidRequest("Bluesky has no private replies: send a direct message.")

    def send_dm(
        self,
        *,
        recipient: Author,
        text: str,
        thread_id: str,
        idempotency_key: str,
        in_reply_to: str = "",
    ) -> Sent:
        client = self._login().with_bsky_chat_proxy()
        convo_id = thread_id
        if not convo_id:
            page = self._query(
                "chat.bsky.convo.getConvoForMembers",
                {"members": [recipient.external_id]},
                chat=True,
            )
            convo_id = (page.get("convo") or {}).get("id", "")
            if not convo_id:
                raise base.InvalidRequest("Bluesky did not open a conversation.")
        try:
            response = client.invoke_procedure(
                "chat.bsky.convo.sendMessage",
                data=DotDict({"convoId": convo_id, "message": {"text": text}}),
                input_encoding="application/json",
            )
        except (AtProtocolError, httpx.TransportError) as exc:
            _raise_mapped(exc)
        message = response.content if isinstance(response.content, dict) else {}
        if not message.get("id"):
            raise base.InvalidRequest("Bluesky did not return the sent message.")
        return Sent(external_id=message["id"], thread_id=convo_id, raw=message)

    def like(self, *, external_id: str) -> Sent:
        ref, _ = self._strong_ref(external_id)
        client = self._login()
        response = self._call(client.like, ref.uri, ref.cid)
        return Sent(external_id=response.uri, raw={"uri": response.uri})

    def follow(self, *, author: Author) -> Sent:
        client = self._login()
        response = self._call(client.follow, author.external_id)
        return Sent(external_id=response.uri, url=author.profile_url, raw={"uri": response.uri})


def _quoted_uri(embed: Any) -> str:
    if not isinstance(embed, dict):
        return ""
    kind = embed.get("$type", "")
    if kind == "app.bsky.embed.record":
        return str((embed.get("record") or {}).get("uri", ""))
    if kind == "app.bsky.embed.recordWithMedia":
        return str(((embed.get("record") or {}).get("record") or {}).get("uri", ""))
    return ""
