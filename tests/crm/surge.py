"""A viral complaint as a peer sees it: one brand post on mastodon-mock, and between two
polls a surge of notifications on it (60 % likes, 25 % reposts, 10 % replies, 5 %
piled-on complaint mentions from existing customers), the first complaint itself liked
past the team's virality threshold. Shared by tests/crm/test_surge.py and bench/surge.py
(no Django imports at module level)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

COMPLAINTS = [
    "@brand the new router firmware broke my wifi again, total outage!! fix it",
    "@brand router firmware update killed my wifi, outage since this morning, unacceptable",
    "@brand wifi outage again after the router firmware update, broken",
]


@dataclass
class SurgeShape:
    """How many of each notification a surge of ``total`` brings."""

    total: int
    #: Likes of the first complaint (they notify its author, not the brand).
    complaint_likes: int = 0

    @property
    def likes(self) -> int:
        return self.total * 60 // 100

    @property
    def reposts(self) -> int:
        return self.total * 25 // 100

    @property
    def replies(self) -> int:
        return self.total * 10 // 100

    @property
    def complaints(self) -> int:
        return self.total - self.likes - self.reposts - self.replies

    @property
    def fans(self) -> int:
        """Accounts that like the post (one like each); the first of them also repost
        and reply."""
        return max(self.likes, self.reposts, self.replies, self.complaint_likes)

    def accounts(self) -> list[str]:
        return [
            "brand",
            *(f"cust{n}" for n in range(self.complaints)),
            *(f"fan{n}" for n in range(self.fans)),
        ]


def _run(jobs, workers: int) -> None:
    if workers <= 1:
        for job in jobs:
            job()
        return
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


def surge_before(server, shape: SurgeShape) -> str:
    """What happened before the first poll: the brand's post, and a first hello from
    each future complainer (so they are known people, made customers by the caller).
    Returns the brand post's id."""
    post = server.client("brand").status_post("Our new router firmware is out today!")
    for n in range(shape.complaints):
        server.client(f"cust{n}").status_post(f"@brand hello from customer {n}")
    return str(post["id"])


def surge_post(server, shape: SurgeShape, post_id: str, *, workers: int = 1) -> None:
    """The surge itself, between two polls: the first complaint (liked past the
    threshold), the other complaints, likes, reposts and replies on the brand post."""
    clients = {name: server.client(name) for name in shape.accounts()}
    first = clients["cust0"].status_post(COMPLAINTS[0]) if shape.complaints else None
    jobs = []
    if first is not None:
        jobs += [
            (lambda n=n: clients[f"fan{n}"].status_favourite(first["id"]))
            for n in range(shape.complaint_likes)
        ]
    jobs += [
        (lambda n=n: clients[f"cust{n}"].status_post(COMPLAINTS[n % len(COMPLAINTS)]))
        for n in range(1, shape.complaints)
    ]
    jobs += [(lambda n=n: clients[f"fan{n}"].status_favourite(post_id)) for n in range(shape.likes)]
    jobs += [(lambda n=n: clients[f"fan{n}"].status_reblog(post_id)) for n in range(shape.reposts)]
    jobs += [
        (
            lambda n=n: clients[f"fan{n}"].status_post(
                f"@brand congrats on the release {n}", in_reply_to_id=post_id
            )
        )
        for n in range(shape.replies)
    ]
    _run(jobs, workers)


def peer_notifications(server) -> Counter:
    """What the peer holds for the brand: its notifications, counted by type."""
    brand = server.client("brand")
    page = brand.notifications(limit=40)
    counts: Counter = Counter()
    seen: set[str] = set()
    while page:
        for note in page:
            if str(note["id"]) not in seen:
                seen.add(str(note["id"]))
                counts[note["type"]] += 1
        page = brand.fetch_next(page)
    return counts
