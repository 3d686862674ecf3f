"""Network adapters: one module per network behind one interface (``base``).

Nothing outside this package knows a network's wire format. ``adapter_class`` is the
one registry: a new network is a module here and a line in ``_MODULES``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crm.models import SocialAccount

    from .base import NetworkAdapter

_MODULES = {
    "bluesky": "crm.networks.bluesky",
    "mastodon": "crm.networks.mastodon",
    "x": "crm.networks.x",
    "facebook": "crm.networks.facebook",
    "instagram": "crm.networks.instagram",
    "youtube": "crm.networks.youtube",
    "linkedin": "crm.networks.linkedin",
}


def adapter_class(network: str) -> type[NetworkAdapter]:
    """The adapter class of ``network``; ``KeyError`` for a network we do not know."""
    return import_module(_MODULES[network]).Adapter


def adapter_for(account: SocialAccount) -> NetworkAdapter:
    """The adapter for ``account``'s network, configured with its URL and credentials."""
    return adapter_class(account.network).from_account(account)
