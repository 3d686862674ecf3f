"""LinkedIn organization pages, on ``linkedin-api-client`` (Rest.li, versioned API).

Streams:

``comments``   comments (and replies) on the organization's recent posts
               (``/socialActions/{post}/comments``);
``reactions``  reactions on those posts (``/reactions/(entity:{post})``), as likes;
``mentions``   posts that mention the organization
               (``/organizationalEntityNotifications``, action ``SHARE_MENTION``).

LinkedIn serves these newest first and has no ``since``: each post's list (one list for
mentions) is walked back to its since — the ``created.time`` (epoch seconds) of the
newest item stored from it — one Rest.li page per stored page, and the walk's state (the
posts left, the next ``start``, a since per post) is the stream's cursor
(``base.cursor_walk_step``), so a walk cut short by a 429, a 500 or a kill goes on from
the last page stored. LinkedIn offers no direct
messages to organizations and no comment webhooks: answers are public comments, polling
is the only path. A member is keyed by their person URN; LinkedIn does not give an
organization its commenters' names, so the handle is the URN's id.

Credentials: an OAuth client (``client_id``, ``client_secret``) and the administrator's
``refresh_token``; a 401 renews the access token once through LinkedIn's OAuth endpoint
(``AuthClient``) and the new token is kept (``updated_credentials``); a refused refresh
means the administrator must reconnect. A 429 waits for ``Retry-After`` (or a minute).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from linkedin_api.clients.auth.client import AuthClient
from linkedin_api.clients.restli.client import RestliClient
from linkedin_api.common import constants
from linkedin_api.common.errors import ResponseFormattingError
from requests.adapters import HTTPAdapter

from core.choices import Direction, EntryKind, Network

from . import base
from .base import (
    Author,
    FetchResult,
    Interaction,
    Page,
    Sent,
    StreamState,
    page_from_result,
)
from .common import DEFAULT_RATE_LIMIT_WAIT, header, text_of

NETWORK = Network.LINKEDIN
VERSION = "202411"
POSTS_PER_POLL = 20
MAX_LIMIT = 100
MAX_WALK_PAGES = 20
API_ORIGIN = "https://api.linkedin.com"


class Adapter:
    network: ClassVar[str] = NETWORK
    streams: ClassVar[tuple[str, ...]] = ("comments", "reactions", "mentions")
    max_page: ClassVar[int] = 100
    idempotent_sends: ClassVar[bool] = False
    private_replies: ClassVar[bool] = False

    def __init__(self, *, base_url: str, handle: str, credentials: dict, org_id: str = ""):
        self.handle = handle
        self.credentials = dict(credentials or {})
        self.org_id = org_id
        self.rest = RestliClient()
        self.oauth_url = constants.OAUTH_BASE_URL
        if base_url:
            # Another address for LinkedIn's API and OAuth (a test double): the client
            # builds api.linkedin.com URLs, its session sends them there instead.
            self.rest.session.mount(API_ORIGIN, _Elsewhere(base_url))
            self.oauth_url = f"{base_url.rstrip('/')}/oauth/v2"
        self.auth = AuthClient(
            client_id=self.credentials.get("client_id", ""),
            client_secret=self.credentials.get("client_secret", ""),
        )
        self._refreshed = False

    @classmethod
    def from_account(cls, account: Any) -> Adapter:
        return cls(
            base_url=account.base_url,
            handle=account.handle,
            credentials=account.credentials or {},
            org_id=account.external_id or "",
        )

    @classmethod
    def from_credentials(cls, *, base_url: str, handle: str, credentials: dict) -> Adapter:
        return cls(base_url=base_url, handle=handle, credentials=credentials)

    def updated_credentials(self) -> dict | None:
        return dict(self.credentials) if self._refreshed else None

    # -- calls ------------------------------------------------------------------------

    def _token(self) -> str:
        if not self.credentials.get("refresh_token"):
            raise base.AuthError("No LinkedIn refresh token is stored for this account.")
        if not self.credentials.get("access_token"):
            self._refresh()
        return self.credentials["access_token"]

    def _refresh(self) -> None:
        try:
            answer = self.auth.session.post(
                f"{self.oauth_url}/accessToken",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.credentials.get("refresh_token", ""),
                    "client_id": self.auth.client_id,
                    "client_secret": self.auth.client_secret,
                },
                timeout=20,
            )
        except requests.RequestException as exc:
            raise base.TransientError("LinkedIn's sign-in service could not be reached.") from exc
        body = _json(answer)
        if answer.status_code != 200 or not body.get("access_token"):
            raise base.AuthError(
                "LinkedIn refused to renew the access (the administrator revoked it or the "
                "refresh token expired): reconnect the page."
            )
        self.credentials["access_token"] = body["access_token"]
        if body.get("refresh_token"):
            self.credentials["refresh_token"] = body["refresh_token"]
        self._refreshed = True

    def _call(self, method: str, *, retry: bool = True, **kwargs) -> Any:
        """A Rest.li call through ``RestliClient``; a 401 renews the token once."""
        token = self._token()
        try:
            answer = getattr(self.rest, method)(
                access_token=token, version_string=VERSION, **kwargs
            )
        except requests.Timeout as exc:
            raise base.TransientError("LinkedIn did not answer in time.") from exc
        except requests.RequestException as exc:
            raise base.TransientError("LinkedIn could not be reached.") from exc
        except (ResponseFormattingError, ValueError) as exc:
            # The client's formatters raise on a body that is not what Rest.li sends.
            raise base.TransientError("LinkedIn answered something we cannot read.") from exc
        status = answer.status_code
        if status == 401 and retry:
            self._refresh()
            return self._call(method, retry=False, **kwargs)
        if status in (200, 201, 204):
            return answer
        body = _json(answer.response)
        if status == 401:
            raise base.AuthError("LinkedIn rejected the access token: reconnect the page.")
        if status == 429:
            raise base.RateLimited(
                "LinkedIn is limiting requests (its daily limits reset at midnight UTC).",
                reset_at=_retry_at(answer.headers),
            )
        if status >= 500:
            raise base.TransientError(
                f"LinkedIn server error: {status}",
                code="server_error",
                params={"network": "LinkedIn", "status": status},
            )
        if status == 403:
            raise base.AuthError(
                "LinkedIn refused this access: reconnect the page as one of its administrators."
            )
        raise base.InvalidRequest(
            f"LinkedIn refused the request ({status} {text_of(body.get('code')) or ''})."
        )

    # -- identity ---------------------------------------------------------------------

    def verify(self) -> Author:
        acls = self._call(
            "finder",
            resource_path="/organizationAcls",
            finder_name="roleAssignee",
            query_params={"role": "ADMINISTRATOR", "state": "APPROVED"},
        )
        orgs = [e.get("organization") for e in acls.elements or [] if isinstance(e, dict)]
        orgs = [o for o in orgs if isinstance(o, str) and o.startswith("urn:li:organization:")]
        if not orgs:
            raise base.InvalidRequest("This LinkedIn member administers no organization page.")
        wanted = (self.handle or "").lower()
        chosen = None
        for urn in orgs:
            org_id = urn.rsplit(":", 1)[-1]
            org = self._call("get", resource_path="/organizations/{id}", path_keys={"id": org_id})
            entity = org.entity or {}
            vanity = text_of(entity.get("vanityName"))
            if chosen is None or vanity.lower() == wanted:
                chosen = (org_id, vanity, text_of(entity.get("localizedName")))
            if vanity.lower() == wanted:
                break
        self.org_id = chosen[0]
        return Author(
            external_id=self.org_id,
            handle=chosen[1] or self.org_id,
            display_name=chosen[2],
            profile_url=f"https://www.linkedin.com/company/{chosen[1] or self.org_id}/",
        )

    def _org(self) -> str:
        if not self.org_id:
            self.verify()
        return self.org_id

    @property
    def org_urn(self) -> str:
        return f"urn:li:organization:{self._org()}"

    def person(self, urn: Any) -> Author:
        if not isinstance(urn, str) or not urn.startswith("urn:li:"):
            raise ValueError("item without its author")
        return Author(external_id=urn, handle=urn.rsplit(":", 1)[-1])

    # -- reading ----------------------------------------------------------------------

    def fetch_page(self, stream: str, state: StreamState, *, limit: int) -> Page:
        """One page of ``stream`` after ``state.cursor`` (see the module's docstring)."""
        label = Network(self.network).label
        return page_from_result(self._fetch, stream, state, limit=limit, network=label)

    def _fetch(self, stream: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """One page of ``stream``'s newest-first walk back to the cursor; the walk's
        state is the cursor (``base.cursor_walk_step``): for comments and reactions one
        list per recent post, each back to that post's own since."""
        limit = max(1, min(limit, MAX_LIMIT))
        if stream == "comments":
            return self._step(cursor, self._posts, self._comments_page, self._comment, limit)
        if stream == "reactions":
            return self._step(cursor, self._posts, self._reactions_page, self._reaction, limit)
        if stream == "mentions":
            return self._step(
                cursor,
                lambda: [("", "")],
                self._mentions_page,
                lambda note, _list: self._mention(note),
                limit,
            )
        raise base.InvalidRequest(f"LinkedIn has no stream {stream!r}")

    def _step(self, cursor, lists, fetch_page, normalise, limit) -> FetchResult:
        def read(walk_list: base.WalkList, token: str | None):
            start = int(token) if token and token.isdigit() else 0
            page = fetch_page(walk_list[0], start, limit)
            elements = page.elements or []
            total = page.paging.total if page.paging else None
            end = start + len(elements)
            more = elements and (total is None or end < total)
            return elements, str(end) if more else None

        def items(element, walk_list: base.WalkList) -> list[Interaction]:
            item = normalise(element, walk_list[0])
            return [item] if item is not None else []

        return base.cursor_walk_step(
            cursor,
            lists=lists,
            read=read,
            normalise=items,
            what="LinkedIn item",
            max_pages=MAX_WALK_PAGES,
        )

    def _posts(self) -> list[base.WalkList]:
        posts = self._call(
            "finder",
            resource_path="/posts",
            finder_name="author",
            query_params={
                "author": self.org_urn,
                "count": POSTS_PER_POLL,
                "sortBy": "LAST_MODIFIED",
            },
        )
        return [
            (str(p["id"]), "") for p in posts.elements or [] if isinstance(p, dict) and p.get("id")
        ]

    def _comments_page(self, post: str, start: int, count: int):
        return self._call(
            "get_all",
            resource_path="/socialActions/{urn}/comments",
            path_keys={"urn": post},
            query_params={"start": start, "count": count},
        )

    def _comment(self, comment: dict[str, Any], post: str) -> Interaction:
        if not comment.get("id") and not comment.get("commentUrn"):
            raise ValueError("comment without an id")
        actor = comment.get("actor")
        ours = actor == self.org_urn
        urn = text_of(comment.get("commentUrn")) or f"urn:li:comment:({post},{comment['id']})"
        return Interaction(
            network=NETWORK,
            external_id=urn,
            kind=EntryKind.REPLY,
            author=self._me() if ours else self.person(actor),
            occurred_at=_ms((comment.get("created") or {}).get("time")),
            text=text_of((comment.get("message") or {}).get("text")),
            url=f"https://www.linkedin.com/feed/update/{post}/",
            in_reply_to=text_of(comment.get("parentComment")) or post,
            thread_id=post,
            direction=Direction.OUTBOUND if ours else Direction.INBOUND,
            raw=comment,
        )

    def _me(self) -> Author:
        return Author(external_id=self.org_urn, handle=self.handle or self._org())

    def _reactions_page(self, post: str, start: int, count: int):
        return self._call(
            "finder",
            resource_path="/reactions/(entity:{entity})",
            path_keys={"entity": post},
            finder_name="entity",
            query_params={"sort": "REVERSE_CHRONOLOGICAL", "start": start, "count": count},
        )

    def _reaction(self, reaction: dict[str, Any], post: str) -> Interaction | None:
        created = reaction.get("created") or {}
        actor = created.get("actor") or reaction.get("actor")
        if actor == self.org_urn:
            return None
        return Interaction(
            network=NETWORK,
            external_id=text_of(reaction.get("id")) or f"reaction:{post}:{actor}",
            kind=EntryKind.LIKE,
            author=self.person(actor),
            occurred_at=_ms(created.get("time")),
            in_reply_to=post,
            raw=reaction,
        )

    def _mentions_page(self, _list: str, start: int, count: int):
        return self._call(
            "finder",
            resource_path="/organizationalEntityNotifications",
            finder_name="criteria",
            query_params={
                "organizationalEntity": self.org_urn,
                "actions": ["SHARE_MENTION"],
                "start": start,
                "count": count,
            },
        )

    def _mention(self, note: dict[str, Any]) -> Interaction | None:
        if note.get("action") != "SHARE_MENTION":
            return None
        source = note.get("decoratedSourcePost") or {}
        post = source.get("entity") or note.get("sourcePost")
        if not isinstance(post, str):
            raise ValueError("mention without its post")
        return Interaction(
            network=NETWORK,
            external_id=post,
            kind=EntryKind.MENTION,
            author=self.person(source.get("owner")),
            occurred_at=_ms(note.get("lastModifiedAt")),
            text=text_of(source.get("text")),
            url=f"https://www.linkedin.com/feed/update/{post}/",
            raw=note,
        )

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        raise base.InvalidRequest(
            "LinkedIn offers no search of public posts, so listening is not available there."
        )

    # -- writing ----------------------------------------------------------------------

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        post, parent = in_reply_to, None
        if in_reply_to.startswith("urn:li:comment:("):
            post = in_reply_to.removeprefix("urn:li:comment:(").split(",", 1)[0]
            parent = in_reply_to
        entity: dict[str, Any] = {"actor": self.org_urn, "object": post, "message": {"text": text}}
        if parent:
            entity["parentComment"] = parent
        answer = self._call(
            "create",
            resource_path="/socialActions/{urn}/comments",
            path_keys={"urn": post},
            entity=entity,
        )
        created = answer.entity or {}
        comment_urn = text_of(created.get("commentUrn")) or (
            f"urn:li:comment:({post},{answer.entity_id})" if answer.entity_id else ""
        )
        if not comment_urn:
            raise base.TransientError("LinkedIn accepted the comment but returned no id.")
        return Sent(external_id=comment_urn, thread_id=post, raw=created)

    def post(self, *, text: str, idempotency_key: str) -> Sent:
        answer = self._call(
            "create",
            resource_path="/posts",
            entity={
                "author": self.org_urn,
                "commentary": text,
                "visibility": "PUBLIC",
                "distribution": {"feedDistribution": "MAIN_FEED"},
                "lifecycleState": "PUBLISHED",
            },
        )
        if not answer.entity_id:
            raise base.TransientError("LinkedIn accepted the post but returned no id.")
        urn = str(answer.entity_id)
        return Sent(external_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")

    def send_dm(
        self,
        *,
        recipient: Author,
        text: str,
        thread_id: str,
        idempotency_key: str,
        in_reply_to: str = "",
    ) -> Sent:
        raise base.InvalidRequest(
            "LinkedIn pages cannot send direct messages: answer publicly instead."
        )

    def private_reply(self, *, comment_id: str, recipient: Author, text: str) -> Sent:
        raise base.InvalidRequest("LinkedIn has no private replies: answer publicly instead.")

    def like(self, *, external_id: str) -> Sent:
        raise base.InvalidRequest("Reacting from Momento is not offered on LinkedIn.")

    def follow(self, *, author: Author) -> Sent:
        raise base.InvalidRequest("A LinkedIn page cannot follow members.")


class _Elsewhere(HTTPAdapter):
    """Sends what ``RestliClient`` addresses to api.linkedin.com to ``base_url``."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request, **kwargs):
        request.url = self.base_url + request.url.removeprefix(API_ORIGIN)
        return super().send(request, **kwargs)


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, AttributeError):
        return {}
    return body if isinstance(body, dict) else {}


def _ms(value: Any) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"not a LinkedIn time: {value!r}")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _epoch(item: Interaction) -> int:
    return int(item.occurred_at.timestamp())


def _retry_at(headers: Any) -> datetime:
    wait = header(headers, "Retry-After")
    if wait and wait.strip().isdigit():
        return datetime.now(UTC) + timedelta(seconds=int(wait))
    return datetime.now(UTC) + DEFAULT_RATE_LIMIT_WAIT
