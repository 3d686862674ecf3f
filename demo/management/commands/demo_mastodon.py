"""Serve the local demo Mastodon server (mastodon-mock) on 127.0.0.1 for ``make run``."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections

from demo import server as demo_server


class Command(BaseCommand):
    help = (
        "Serve a local Mastodon-compatible demo server (mastodon-mock) on 127.0.0.1 with "
        "the demo brand account and a few customers; development only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=demo_server.DEFAULT_PORT)
        parser.add_argument(
            "--connect",
            action="store_true",
            help="Once it answers, connect the demo brand account to it (as seed_demo does).",
        )

    def handle(self, *args, port: int, connect: bool = False, **options):
        if not settings.DEBUG:
            raise CommandError("The demo Mastodon server is for development only (DEBUG is off).")
        try:
            import uvicorn
            from mastodon_mock.app import create_app
        except ImportError as exc:
            raise CommandError(
                f"mastodon-mock is not installed ({exc}); install Momento with "
                "`pip install -e '.[dev]'` (make run does)."
            ) from exc
        state = demo_server.state_write(port=port)
        app = create_app(demo_server.mock_config(state=state, port=port))
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, server_header=False, log_level="warning"
            )
        )
        if connect:
            threading.Thread(target=self._connect, args=(state,), daemon=True).start()
        self.stdout.write(
            f"Demo Mastodon server on {state['base_url']} (brand @{state['brand']}; customers "
            f"{', '.join('@' + c['username'] for c in state['customers'])})."
        )
        server.run()

    def _connect(self, state):
        if not demo_server.wait_up(state["base_url"], seconds=30):
            self.stderr.write("The demo Mastodon server did not answer: brand not connected.")
            return
        close_old_connections()
        try:
            account = demo_server.demo_brand_connect(state=state)
            self.stdout.write(f"Demo brand account @{account.handle} connected.")
        except Exception as exc:  # a demo nicety: the server keeps serving
            self.stderr.write(f"Could not connect the demo brand account: {exc}")
        finally:
            connections.close_all()
