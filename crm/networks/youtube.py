"""YouTube, on ``google-api-python-client`` (YouTube Data API v3, OAuth 2.0).

Streams:

``comments``     comment threads and their replies on the channel's videos
                 (``commentThreads.list(allThreadsRelatedToChannelId=…)``, newest thread
                 first). We walk back to the cursor — the ``publishedAt`` (epoch
                 seconds) of the newest comment stored — at most ``MAX_WALK_PAGES`` pages,
                 and hand over oldest first; a thread whose replies do not all fit in the
                 thread's own list is read with ``comments.list(parentId=…)``.
``subscribers``  new public subscribers (``subscriptions.list(myRecentSubscribers)``),
                 kind follow.

YouTube offers no direct messages and no webhook for comments: answers are public
replies (``comments.insert`` on the thread), and polling is the only path. An author is
keyed by their channel id (global on YouTube), with their ``@handle`` as handle.

Credentials are an OAuth client (``client_id``, ``client_secret``) and the channel
owner's ``refresh_token``; the short-lived access token is refreshed by google-auth and
kept (``updated_credentials``) so the next run does not refresh again. Quota: a 403
``quotaExceeded`` waits until the daily quota resets (midnight Pacific time); a 429 or
``rateLimitExceeded`` waits a minute; a refused refresh (``invalid_grant``) or a 401
means the owner must reconnect.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import google.auth.exceptions
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from core.choices import Direction, EntryKind, Network

from . import base
from .base import (
    Author,
    FailedItem,
    FetchResult,
    Interaction,
    Page,
    Sent,
    StreamState,
    page_from_result,
)
from .common import DEFAULT_RATE_LIMIT_WAIT, parse_time, text_of

NETWORK = Network.YOUTUBE
TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (an address, not a secret)
MAX_LIMIT = 100
#: Pages one walk back reads before it settles (YouTube serves no older page anyway
#: after a while).
MAX_WALK_PAGES = 200
PACIFIC = ZoneInfo("America/Los_Angeles")


class Adapter:
    network: ClassVar[str] = NETWORK
    streams: ClassVar[tuple[str, ...]] = ("comments", "subscribers")
    max_page: ClassVar[int] = 100
    idempotent_sends: ClassVar[bool] = False
    private_replies: ClassVar[bool] = False

    def __init__(self, *, base_url: str, handle: str, credentials: dict, channel_id: str = ""):
        self.handle = handle
        self.credentials = dict(credentials or {})
        self.channel_id = channel_id
        self.base_url = base_url.rstrip("/")
        self._refreshed = False
        expiry = self.credentials.get("expiry")
        self.oauth = Credentials(
            token=self.credentials.get("access_token") or None,
            refresh_token=self.credentials.get("refresh_token") or None,
            client_id=self.credentials.get("client_id") or None,
            client_secret=self.credentials.get("client_secret") or None,
            token_uri=f"{self.base_url}/token" if self.base_url else TOKEN_URI,
            expiry=datetime.fromisoformat(expiry).replace(tzinfo=None) if expiry else None,
        )
        options = {"api_endpoint": self.base_url} if self.base_url else None
        self.api = build(
            "youtube",
            "v3",
            credentials=self.oauth,
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
            num_retries=0,
        )

    @classmethod
    def from_account(cls, account: Any) -> Adapter:
        return cls(
            base_url=account.base_url,
            handle=account.handle,
            credentials=account.credentials or {},
            channel_id=account.external_id or "",
        )

    @classmethod
    def from_credentials(cls, *, base_url: str, handle: str, credentials: dict) -> Adapter:
        return cls(base_url=base_url, handle=handle, credentials=credentials)

    def updated_credentials(self) -> dict | None:
        """The refreshed access token and its expiry, when google-auth refreshed it."""
        if not self._refreshed or not self.oauth.token:
            return None
        fresh = dict(self.credentials)
        fresh["access_token"] = self.oauth.token
        if self.oauth.expiry:
            fresh["expiry"] = self.oauth.expiry.replace(tzinfo=UTC).isoformat()
        return fresh

    # -- errors -----------------------------------------------------------------------

    def _call(self, request) -> dict[str, Any]:
        if not self.credentials.get("refresh_token"):
            raise base.AuthError("No YouTube refresh token is stored for this account.")
        before = self.oauth.token
        try:
            answer = request.execute(num_retries=0)
        except HttpError as exc:
            raise _error(exc) from exc
        except google.auth.exceptions.RefreshError as exc:
            raise base.AuthError(
                "Google refused to renew the access (the owner revoked it or the refresh "
                "token expired): reconnect the channel."
            ) from exc
        except google.auth.exceptions.TransportError as exc:
            raise base.TransientError("Google's sign-in service could not be reached.") from exc
        except (httplib2.HttpLib2Error, OSError, TimeoutError) as exc:
            raise base.TransientError("YouTube could not be reached.") from exc
        if self.oauth.token != before:
            self._refreshed = True
        if not isinstance(answer, dict):
            raise base.InvalidRequest("YouTube answered something that is not an object.")
        return answer

    # -- identity ---------------------------------------------------------------------

    def verify(self) -> Author:
        answer = self._call(self.api.channels().list(part="snippet,statistics", mine=True))
        channels = answer.get("items") or []
        if not channels:
            raise base.InvalidRequest("This Google account has no YouTube channel.")
        channel = channels[0]
        snippet = channel.get("snippet") or {}
        self.channel_id = str(channel["id"])
        subscribers = (channel.get("statistics") or {}).get("subscriberCount")
        return Author(
            external_id=self.channel_id,
            handle=text_of(snippet.get("customUrl")) or self.channel_id,
            display_name=text_of(snippet.get("title")),
            profile_url=f"https://www.youtube.com/channel/{self.channel_id}",
            follower_count=int(subscribers) if str(subscribers or "").isdigit() else None,
        )

    def _channel(self) -> str:
        if not self.channel_id:
            self.verify()
        return self.channel_id

    # -- reading ----------------------------------------------------------------------

    def fetch_page(self, stream: str, state: StreamState, *, limit: int) -> Page:
        """One page of ``stream`` after ``state.cursor`` (see the module's docstring)."""
        label = Network(self.network).label
        return page_from_result(self._fetch, stream, state, limit=limit, network=label)

    def _fetch(self, stream: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """One page of a newest-first walk back to the cursor (``base.cursor_walk_step``):
        the ``publishedAt`` (epoch seconds) of the newest item stored, or, while a walk
        is under way, the walk's state (the stop, the next page token, the newest time
        seen), stored with each page so a walk of any length goes on across runs and
        after a kill; the cursor moves to the newest time only once the walk reached
        the stop (or YouTube served no older page)."""
        limit = max(1, min(limit, MAX_LIMIT))
        if stream == "comments":
            return self._walk(
                cursor,
                lambda token: self.api.commentThreads().list(
                    part="snippet,replies",
                    allThreadsRelatedToChannelId=self._channel(),
                    order="time",
                    textFormat="plainText",
                    maxResults=limit,
                    pageToken=token,
                ),
                self._thread,
                "comment thread",
            )
        if stream == "subscribers":
            return self._walk(
                cursor,
                lambda token: self.api.subscriptions().list(
                    part="subscriberSnippet,snippet",
                    myRecentSubscribers=True,
                    maxResults=min(limit, 50),
                    pageToken=token,
                ),
                lambda row: [self._subscriber(row)],
                "subscriber",
            )
        raise base.InvalidRequest(f"YouTube has no stream {stream!r}")

    def _walk(self, cursor: str | None, request, normalise, what: str) -> FetchResult:
        def read(_list, token):
            page = self._call(request(token))
            return page.get("items") or [], page.get("nextPageToken")

        return base.cursor_walk_step(
            cursor,
            lists=lambda: [("", "")],
            read=read,
            normalise=lambda row, _list: normalise(row),
            what=what,
            max_pages=MAX_WALK_PAGES,
        )

    def _thread(self, thread: dict[str, Any]) -> list[Interaction]:
        snippet = thread.get("snippet") or {}
        top = snippet.get("topLevelComment")
        if not isinstance(top, dict):
            raise ValueError("thread without its comment")
        thread_id = str(thread["id"])
        video = text_of(snippet.get("videoId"))
        found = [self._comment(top, thread_id, video, in_reply_to=video)]
        replies = (thread.get("replies") or {}).get("comments") or []
        total = snippet.get("totalReplyCount") or 0
        if isinstance(total, int) and total > len(replies):
            replies = self._all_replies(thread_id)
        found += [self._comment(r, thread_id, video, in_reply_to=thread_id) for r in replies]
        return found

    def _all_replies(self, thread_id: str) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        token = None
        for _ in range(MAX_WALK_PAGES):
            page = self._call(
                self.api.comments().list(
                    part="snippet",
                    parentId=thread_id,
                    textFormat="plainText",
                    maxResults=MAX_LIMIT,
                    pageToken=token,
                )
            )
            replies += page.get("items") or []
            token = page.get("nextPageToken")
            if not token:
                break
        return replies

    def _comment(
        self, comment: dict[str, Any], thread_id: str, video: str, *, in_reply_to: str
    ) -> Interaction:
        snippet = comment.get("snippet") or {}
        author_channel = (snippet.get("authorChannelId") or {}).get("value")
        if not comment.get("id") or not author_channel:
            raise ValueError("comment without an id or an author")
        ours = author_channel == self._channel()
        author = Author(
            external_id=str(author_channel),
            handle=text_of(snippet.get("authorDisplayName")).lstrip("@") or str(author_channel),
            display_name=text_of(snippet.get("authorDisplayName")),
            profile_url=text_of(snippet.get("authorChannelUrl")),
            avatar_url=text_of(snippet.get("authorProfileImageUrl")),
        )
        comment_id = str(comment["id"])
        return Interaction(
            network=NETWORK,
            external_id=comment_id,
            kind=EntryKind.REPLY,
            author=author,
            occurred_at=parse_time(snippet.get("publishedAt")),
            text=text_of(snippet.get("textDisplay") or snippet.get("textOriginal")),
            url=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else "",
            in_reply_to=in_reply_to,
            thread_id=thread_id,
            direction=Direction.OUTBOUND if ours else Direction.INBOUND,
            like_count=snippet.get("likeCount") if isinstance(snippet.get("likeCount"), int) else 0,
            raw=comment,
        )

    def _subscriber(self, row: dict[str, Any]) -> Interaction:
        who = row.get("subscriberSnippet") or {}
        channel = who.get("channelId")
        if not row.get("id") or not channel:
            raise ValueError("subscription without its subscriber")
        author = Author(
            external_id=str(channel),
            handle=text_of(who.get("title")) or str(channel),
            display_name=text_of(who.get("title")),
            profile_url=f"https://www.youtube.com/channel/{channel}",
        )
        return Interaction(
            network=NETWORK,
            external_id=f"subscription/{row['id']}",
            kind=EntryKind.FOLLOW,
            author=author,
            occurred_at=parse_time((row.get("snippet") or {}).get("publishedAt")),
            url=author.profile_url,
            raw=row,
        )

    def search(self, query: str, cursor: str | None, *, limit: int = 50) -> FetchResult:
        """Public videos matching ``query``, newest first from YouTube, handed over
        oldest first; the cursor is the newest ``publishedAt`` (epoch seconds)."""
        since = int(cursor) if cursor and cursor.isdigit() else None
        params: dict[str, Any] = {
            "part": "snippet",
            "q": query,
            "type": "video",
            "order": "date",
            "maxResults": min(limit, 50),
        }
        if since is not None:
            params["publishedAfter"] = datetime.fromtimestamp(since, tz=UTC).isoformat()
        page = self._call(self.api.search().list(**params))
        items: list[Interaction] = []
        failed: list[FailedItem] = []
        for row in page.get("items") or []:
            try:
                snippet = row["snippet"]
                video = row["id"]["videoId"]
                channel = snippet["channelId"]
                items.append(
                    Interaction(
                        network=NETWORK,
                        external_id=f"video/{video}",
                        kind=EntryKind.POST,
                        author=Author(
                            external_id=str(channel),
                            handle=text_of(snippet.get("channelTitle")) or str(channel),
                            display_name=text_of(snippet.get("channelTitle")),
                            profile_url=f"https://www.youtube.com/channel/{channel}",
                        ),
                        occurred_at=parse_time(snippet.get("publishedAt")),
                        text=f"{text_of(snippet.get('title'))}\n{text_of(snippet.get('description'))}".strip(),
                        url=f"https://www.youtube.com/watch?v={video}",
                        raw=row,
                    )
                )
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                failed.append(_failed(row, f"Malformed search result: {exc}"))
        ordered = base.oldest_first(items)
        next_cursor = str(_epoch(ordered[-1])) if ordered else cursor
        return FetchResult(ordered, failed, next_cursor, False)

    # -- writing ----------------------------------------------------------------------

    def reply(self, *, in_reply_to: str, text: str, idempotency_key: str) -> Sent:
        # Replies hang off the thread's top-level comment; a reply's id is
        # "<thread id>.<reply id>".
        parent = in_reply_to.split(".", 1)[0]
        answer = self._call(
            self.api.comments().insert(
                part="snippet", body={"snippet": {"parentId": parent, "textOriginal": text}}
            )
        )
        if not answer.get("id"):
            raise base.TransientError("YouTube accepted the reply but returned no id.")
        return Sent(external_id=str(answer["id"]), thread_id=parent, raw=answer)

    def post(self, *, text: str, idempotency_key: str) -> Sent:
        raise base.InvalidRequest("A YouTube post is a video: upload it on YouTube.")

    def send_dm(
        self,
        *,
        recipient: Author,
        text: str,
        thread_id: str,
        idempotency_key: str,
        in_reply_to: str = "",
    ) -> Sent:
        raise base.InvalidRequest("YouTube has no direct messages: answer publicly instead.")

    def private_reply(self, *, comment_id: str, recipient: Author, text: str) -> Sent:
        raise base.InvalidRequest("YouTube has no private replies: answer publicly instead.")

    def like(self, *, external_id: str) -> Sent:
        raise base.InvalidRequest("YouTube's API does not let a channel like comments.")

    def follow(self, *, author: Author) -> Sent:
        raise base.InvalidRequest("Subscribing to channels is not offered from Momento.")


def _error(exc: HttpError) -> base.NetworkError:
    status = int(getattr(exc.resp, "status", 0) or 0)
    reason = ""
    try:
        details = json.loads(exc.content or b"{}").get("error") or {}
        errors = details.get("errors") or [{}]
        reason = str(errors[0].get("reason") or "")
    except (ValueError, AttributeError, TypeError):
        details = {}
    if status == 401:
        return base.AuthError("YouTube rejected the access token: reconnect the channel.")
    if reason == "quotaExceeded":
        return base.RateLimited(
            "YouTube's daily quota is used up; it resets at midnight Pacific time.",
            reset_at=_next_pacific_midnight(),
        )
    if status == 429 or reason in {"rateLimitExceeded", "userRateLimitExceeded"}:
        return base.RateLimited(
            "YouTube is limiting requests.", reset_at=datetime.now(UTC) + DEFAULT_RATE_LIMIT_WAIT
        )
    if status >= 500:
        return base.TransientError(
            f"YouTube server error: {status}",
            code="server_error",
            params={"network": "YouTube", "status": status},
        )
    if status == 403 and reason in {"forbidden", "insufficientPermissions"}:
        return base.AuthError(
            "YouTube refused this access: reconnect the channel with comment permissions."
        )
    return base.InvalidRequest(f"YouTube refused the request ({status} {reason}).")


def _next_pacific_midnight() -> datetime:
    now = datetime.now(PACIFIC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


def _epoch(item: Interaction) -> int:
    return int(item.occurred_at.timestamp())


def _failed(row: Any, reason: str) -> FailedItem:
    ident = str(row.get("id") if isinstance(row, dict) else "") or "item"
    return FailedItem(ident[:200], reason, row if isinstance(row, dict) else {})
