"""A LinkedIn organization page as the versioned Rest.li API serves it, for tests:
``responses`` answers ``api.linkedin.com/rest`` and ``www.linkedin.com/oauth/v2`` in
LinkedIn's wire format (``elements`` + ``paging {start, count, total}``, times in epoch
milliseconds, URNs, ``x-restli-id`` on creates, errors as ``{"status", "code",
"serviceErrorCode", "message"}``), with state so a test can count."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import responses

REST = "https://api.linkedin.com/rest"
OAUTH = "https://www.linkedin.com/oauth/v2/accessToken"
START_MS = 1_795_000_000_000


def li_error(status: int, code: str, message: str) -> dict:
    return {"status": status, "code": code, "serviceErrorCode": 65600, "message": message}


@dataclass
class FakeOrg:
    org_id: str = "2414183"
    vanity: str = "momento-shop"
    refresh_token: str = "AQX-refresh"
    access_token: str = "AQV-first"
    posts: list[str] = field(default_factory=list)  # newest first
    comments: dict[str, list[dict]] = field(default_factory=dict)  # newest first
    reactions: dict[str, list[dict]] = field(default_factory=dict)  # newest first
    mentions: list[dict] = field(default_factory=list)  # newest first
    created: list[dict] = field(default_factory=list)
    faults: list[tuple[int, dict, dict]] = field(default_factory=list)
    refreshes: int = 0
    #: Every list page asked for, as (path, start), faults included.
    reads: list[tuple[str, int]] = field(default_factory=list)
    clock_ms: int = START_MS
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.org_id}"

    def tick(self) -> int:
        self.clock_ms += 1000
        return self.clock_ms

    def post(self) -> str:
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts.insert(0, urn)
        return urn

    def comment(self, post: str, person: str, text: str, *, parent: str | None = None) -> str:
        cid = str(next(self._ids))
        urn = f"urn:li:comment:({post},{cid})"
        row = {
            "id": cid,
            "commentUrn": urn,
            "actor": f"urn:li:person:{person}",
            "object": post,
            "message": {"text": text},
            "created": {"actor": f"urn:li:person:{person}", "time": self.tick()},
            "lastModified": {"actor": f"urn:li:person:{person}", "time": self.clock_ms},
        }
        if parent:
            row["parentComment"] = parent
        self.comments.setdefault(post, []).insert(0, row)
        return urn

    def react(self, post: str, person: str) -> str:
        actor = f"urn:li:person:{person}"
        rid = f"urn:li:reaction:({actor},{post})"
        self.reactions.setdefault(post, []).insert(
            0,
            {
                "id": rid,
                "reactionType": "LIKE",
                "root": post,
                "created": {"actor": actor, "time": self.tick()},
            },
        )
        return rid

    def mention(self, person: str, text: str) -> str:
        urn = f"urn:li:share:{next(self._ids)}"
        self.mentions.insert(
            0,
            {
                "action": "SHARE_MENTION",
                "organizationalEntity": self.urn,
                "lastModifiedAt": self.tick(),
                "decoratedSourcePost": {
                    "entity": urn,
                    "owner": f"urn:li:person:{person}",
                    "text": text,
                },
            },
        )
        return urn

    def all_ids(self) -> set[str]:
        ids = {c["commentUrn"] for cs in self.comments.values() for c in cs}
        ids |= {r["id"] for rs in self.reactions.values() for r in rs}
        ids |= {m["decoratedSourcePost"]["entity"] for m in self.mentions}
        return ids

    # -- HTTP -------------------------------------------------------------------------

    def install(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.POST, OAUTH, self._token)
        rsps.add_callback(responses.GET, re.compile(rf"{re.escape(REST)}/.*"), self._get)
        rsps.add_callback(responses.POST, re.compile(rf"{re.escape(REST)}/.*"), self._post)

    def _token(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        if form.get("refresh_token") != self.refresh_token:
            return (
                400,
                {},
                json.dumps(
                    {
                        "error": "invalid_request",
                        "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked",
                    }
                ),
            )
        self.refreshes += 1
        self.access_token = f"AQV-refreshed{self.refreshes}"
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"access_token": self.access_token, "expires_in": 5183999}),
        )

    def _auth(self, request):
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _json(
                401,
                li_error(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired"),
            )
        if request.headers.get("LinkedIn-Version") is None:
            return _json(
                426, li_error(426, "NONEXISTENT_VERSION", "Requested version is not active")
            )
        if self.faults:
            status, body, headers = self.faults.pop(0)
            return status, {"Content-Type": "application/json", **headers}, json.dumps(body)
        return None

    def times(self) -> dict[str, datetime]:
        """Each item's id and the time LinkedIn gives it."""

        def at(ms: int) -> datetime:
            return datetime.fromtimestamp(ms / 1000, tz=UTC)

        found = {
            c["commentUrn"]: at(c["created"]["time"]) for cs in self.comments.values() for c in cs
        }
        found |= {r["id"]: at(r["created"]["time"]) for rs in self.reactions.values() for r in rs}
        found |= {
            m["decoratedSourcePost"]["entity"]: at(m["lastModifiedAt"]) for m in self.mentions
        }
        return found

    def _get(self, request):
        url = urlsplit(request.url)
        path = unquote(url.path.removeprefix("/rest/"))
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if "start" in query:
            self.reads.append((path, int(query["start"])))
        refused = self._auth(request)
        if refused:
            return refused
        if path == "organizationAcls":
            return _json(
                200,
                {
                    "elements": [
                        {"role": "ADMINISTRATOR", "state": "APPROVED", "organization": self.urn}
                    ],
                    "paging": {"start": 0, "count": 10, "total": 1},
                },
            )
        if path == f"organizations/{self.org_id}":
            return _json(
                200,
                {
                    "id": int(self.org_id),
                    "vanityName": self.vanity,
                    "localizedName": "Momento Shop",
                },
            )
        if path == "posts":
            return _json(
                200, self._paged([{"id": p, "author": self.urn} for p in self.posts], query)
            )
        match = re.fullmatch(r"socialActions/(.+)/comments", path)
        if match:
            return _json(200, self._paged(self.comments.get(match.group(1), []), query))
        match = re.fullmatch(r"reactions/\(entity:(.+)\)", path)
        if match:
            return _json(200, self._paged(self.reactions.get(match.group(1), []), query))
        if path == "organizationalEntityNotifications":
            return _json(200, self._paged(self.mentions, query))
        return _json(404, li_error(404, "NOT_FOUND", f"No resource {path}"))

    def _paged(self, rows: list[dict], query: dict) -> dict:
        start, count = int(query.get("start", 0)), int(query.get("count", 10))
        return {
            "elements": rows[start : start + count],
            "paging": {"start": start, "count": count, "total": len(rows), "links": []},
        }

    def _post(self, request):
        refused = self._auth(request)
        if refused:
            return refused
        path = unquote(urlsplit(request.url).path.removeprefix("/rest/"))
        entity = json.loads(request.body)
        self.created.append({"path": path, **entity})
        match = re.fullmatch(r"socialActions/(.+)/comments", path)
        if match:
            urn = self.comment(
                match.group(1), "ORG", entity["message"]["text"], parent=entity.get("parentComment")
            )
            row = self.comments[match.group(1)][0]
            row["actor"] = self.urn
            cid = urn.rsplit(",", 1)[-1].rstrip(")")
            return 201, {"Content-Type": "application/json", "x-restli-id": cid}, json.dumps(row)
        return _json(404, li_error(404, "NOT_FOUND", path))


def _json(status: int, body: dict):
    return status, {"Content-Type": "application/json"}, json.dumps(body)
