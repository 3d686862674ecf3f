"""Every adapter offers what ``crm.networks.base.NetworkAdapter`` declares, with the same
arguments, so callers use the protocol and never probe an adapter; ``adapter_class`` is
the one way to find one."""

import inspect

import pytest

from core.choices import Network
from crm.networks import adapter_class
from crm.networks.base import NetworkAdapter

ATTRIBUTES = {"network", "streams", "max_page", "idempotent_sends", "private_replies"}
METHODS = {
    name
    for name, value in vars(NetworkAdapter).items()
    if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, classmethod))
}
#: Only Mastodon deduplicates sends by key (``Idempotency-Key``).
IDEMPOTENT = {
    Network.BLUESKY: False,
    Network.MASTODON: True,
    Network.X: False,
    Network.FACEBOOK: False,
    Network.INSTAGRAM: False,
    Network.YOUTUBE: False,
    Network.LINKEDIN: False,
}
#: The largest page each network serves.
MAX_PAGE = {
    Network.BLUESKY: 100,
    Network.MASTODON: 80,
    Network.X: 100,
    Network.FACEBOOK: 100,
    Network.INSTAGRAM: 100,
    Network.YOUTUBE: 100,
    Network.LINKEDIN: 100,
}
#: Only Meta's networks answer a public comment privately in one step.
PRIVATE_REPLIES = {Network.FACEBOOK, Network.INSTAGRAM}


def _parameters(function) -> list[tuple[str, inspect._ParameterKind, bool]]:
    """Name, kind and whether it has a default, for each argument after self/cls."""
    parameters = list(inspect.signature(function).parameters.values())
    return [
        (p.name, p.kind, p.default is not inspect.Parameter.empty)
        for p in parameters
        if p.name not in {"self", "cls"}
    ]


def test_the_protocol_declares_what_callers_use():
    assert set(NetworkAdapter.__annotations__) == ATTRIBUTES
    assert {"updated_credentials", "fetch_page", "reply", "send_dm", "post"} <= METHODS
    assert {"from_account", "from_credentials", "verify", "search", "like", "follow"} <= METHODS


@pytest.mark.parametrize("network", Network.values)
def test_each_adapter_implements_the_whole_protocol(network):
    adapter = adapter_class(network)
    assert adapter.network == network
    assert adapter.streams and all(isinstance(s, str) for s in adapter.streams)
    assert adapter.idempotent_sends is IDEMPOTENT[network]
    assert adapter.private_replies is (network in PRIVATE_REPLIES)
    assert adapter.max_page == MAX_PAGE[network]
    for name in sorted(METHODS):
        declared = inspect.getattr_static(NetworkAdapter, name)
        offered = inspect.getattr_static(adapter, name)
        assert type(offered) is type(declared), name  # a classmethod stays one
        assert _parameters(getattr(adapter, name)) == _parameters(getattr(NetworkAdapter, name)), (
            name
        )


@pytest.mark.parametrize("network", Network.values)
def test_a_new_adapter_has_no_credentials_to_store(network):
    adapter = adapter_class(network).from_credentials(
        base_url="http://127.0.0.1:9", handle="brand", credentials={"access_token": "t"}
    )
    assert adapter.updated_credentials() is None


def test_an_unknown_network_is_a_key_error():
    with pytest.raises(KeyError):
        adapter_class("myspace")
