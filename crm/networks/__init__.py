"""Network adapters: one module per network behind one interface (``base``).

Nothing outside this package knows a network's wire format.
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
}


def adapter_for(account: SocialAccount) -> NetworkAdapter:
    """The adapter for ``account``'s network, configured with its URL and credentials."""
    module = import_module(_MODULES[account.network])
    return module.Adapter.from_account(account)
