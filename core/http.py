"""Small request/response helpers every app uses: where a ``next=`` may send the user."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, default: str | None = None) -> str | None:
    """The ``next`` of the request (POST, then GET) when it stays on this site, else
    ``default`` resolved (a URL name or a path; None when there is none). Never an
    open redirect: another host, another scheme or ``//host`` falls back."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(default) if default else None
