from tests.peers_fixtures import *  # noqa: F401,F403
