"""API throttling per client: a person in a browser and an integration (a shop, a BI
tool, a script) holding an API token are different clients with different needs.

- ``user``: requests authenticated by a session (``API_THROTTLE_USER``, 1,200/min);
- ``integration``: requests authenticated by a token (``API_THROTTLE_INTEGRATION``,
  12,000/min by default, i.e. 200 requests/s per token: a sync job paging through the
  contacts list at full speed stays under it on a two-worker server).

Each token (each user) has its own bucket. Falls back to the ``user`` rate when no
``integration`` rate is configured."""

from __future__ import annotations

from rest_framework.throttling import UserRateThrottle


class ClientRateThrottle(UserRateThrottle):
    """``UserRateThrottle`` whose scope is ``integration`` for token requests."""

    def allow_request(self, request, view):
        scope = "integration" if request.auth is not None else "user"
        if scope not in self.THROTTLE_RATES:
            scope = "user"
        if scope != self.scope:
            self.scope = scope
            self.rate = self.get_rate()
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
