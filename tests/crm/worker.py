"""A REAL Celery worker for the sync tests that kill it: a subprocess in its own session
(``celery -A config worker``), with eager mode off, pointed at the test's database
(committed rows: ``transactional_db``) and at this run's broker database."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def worker_env(**overrides: object) -> dict[str, str]:
    """The worker's environment: this test's database and broker, plus ``overrides``
    (settings read from the environment, e.g. ``MOMENTO_SYNC_LEASE_SECONDS=2``)."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.REDIS_URL or settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="0",
        CONN_MAX_AGE="0",
    )
    env.update({name: str(value) for name, value in overrides.items()})
    return env


def _children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (a worker's pool processes), read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class Worker:
    """Start, SIGKILL and start again one worker; its output goes to ``log``."""

    def __init__(
        self,
        log: Path,
        *,
        queues: str = "sync",
        pool: str = "solo",
        concurrency: int = 1,
        env: dict[str, object] | None = None,
    ):
        self.log = log
        self.queues = queues
        self.pool = pool
        self.concurrency = concurrency
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as out:
            out.write(f"\n===== start {self.starts}\n")
        mark = self.log.stat().st_size
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                self.queues,
                "--pool",
                self.pool,
                "--concurrency",
                str(self.concurrency),
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"sync-test-{os.getpid()}-{self.starts}@127.0.0.1",
            ],
            cwd=ROOT,
            env=worker_env(**self.env),
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while " ready." not in self.log.read_text()[mark:]:
            assert self.proc.poll() is None, self.tail()
            assert time.monotonic() < deadline, "worker not ready:\n" + self.tail()
            time.sleep(0.1)

    def tail(self) -> str:
        return self.log.read_text()[-4000:]

    def kill_pool_process(self) -> bool:
        """SIGKILL one pool process; the worker stays up and forks a new one."""
        children = _children(self.proc.pid) if self.proc else []
        if not children:
            return False
        os.kill(random.choice(children), signal.SIGKILL)
        return True

    def kill(self, sig=signal.SIGKILL) -> None:
        """Signal the worker's whole process group (the worker and its pool)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)


def send_task(name: str, *args) -> None:
    """Send through the broker (the test settings' eager mode does not apply to it)."""
    from celery.exceptions import AlwaysEagerIgnored

    from config.celery import app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        app.send_task(name, args=list(args))


class Beat(threading.Thread):
    """What beat sends each minute (due syncs, the sweep), sent every second."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            send_task("crm.tasks.sync_due_accounts")
            send_task("crm.tasks.sync_sweep")
