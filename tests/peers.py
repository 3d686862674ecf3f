"""Real local social-network peers for Momento's tests (no Django imports).

Two peers:

* ``bsky_network()`` runs a local Bluesky network (PLC, PDS, AppView and the bsync and
  ozone services that ``@atproto/dev-env`` always starts) in one Node 22 process, on a
  fresh PostgreSQL database, every server on 127.0.0.1.
* ``mastodon_mock()`` runs the ``mastodon_mock`` server (a stateful Mastodon REST API on
  in-memory SQLite) on 127.0.0.1 and a free port, with seeded accounts and tokens.

Both are context managers that clean up what they start, also when the body fails.
The Bluesky side needs ``scripts/peers/install.sh`` (run here automatically unless
``MOMENTO_PEERS_AUTO_INSTALL=0``).

Environment knobs:

``MOMENTO_PEERS_DIR``          cache folder of install.sh (default ~/.cache/momento/peers)
``MOMENTO_PEERS_AUTO_INSTALL`` "0" raises instead of running install.sh when needed
``MOMENTO_PEERS_PG_URL``       PostgreSQL URL used to create/drop the network's database
                               (default postgresql://postgres@127.0.0.1:5432/postgres)
``MOMENTO_PEERS_REDIS_HOST``   host:port of Redis (default 127.0.0.1:6379)
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = REPO_ROOT / "scripts" / "peers"
INSTALL_SH = SCRIPTS_DIR / "install.sh"
NETWORK_SCRIPT = SCRIPTS_DIR / "bsky_network.mjs"

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_HOST = "127.0.0.1:6379"


class PeersError(RuntimeError):
    """A peer could not be installed, started or used."""


class PeersNotInstalled(PeersError):
    """The Bluesky network is not installed (run scripts/peers/install.sh)."""


def peers_dir() -> Path:
    return Path(os.environ.get("MOMENTO_PEERS_DIR") or Path.home() / ".cache" / "momento" / "peers")


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _read_tail(path: Path, lines: int = 40) -> str:
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError:
        return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_process(proc: subprocess.Popen, *, timeout: float) -> None:
    """SIGTERM the process we started, wait, then SIGKILL its own process group.

    The process was started with start_new_session=True, so its group holds only it
    (and anything it spawned); the group is signalled only while the process is alive.
    """
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _close_stdin(proc: subprocess.Popen) -> None:
    """Close our end of the process's stdin; the peers stop when it closes."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()


# --------------------------------------------------------------------------------------
# Bluesky
# --------------------------------------------------------------------------------------


def ensure_bsky_installed(*, auto_install: bool | None = None) -> Path:
    """Make sure install.sh has run; return the cache folder.

    Runs install.sh (a fast no-op when already installed) unless auto-install is off,
    in which case a missing or outdated install raises PeersNotInstalled.
    """
    if auto_install is None:
        auto_install = os.environ.get("MOMENTO_PEERS_AUTO_INSTALL", "1") not in ("0", "false", "no")
    base = peers_dir()
    node = base / "node" / "bin" / "node"
    dev_env = base / "app" / "node_modules" / "@atproto" / "dev-env" / "package.json"
    if not auto_install:
        if not (node.exists() and dev_env.exists()):
            raise PeersNotInstalled(
                f"The local Bluesky network is not installed in {base}. "
                f"Run: bash {INSTALL_SH.relative_to(REPO_ROOT)}  (about 2 minutes, ~480 MB)"
            )
        return base
    env = dict(os.environ, MOMENTO_PEERS_DIR=str(base))
    proc = subprocess.run(
        ["bash", str(INSTALL_SH)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if proc.returncode != 0:
        raise PeersNotInstalled(
            f"scripts/peers/install.sh failed (exit {proc.returncode}); its output ends with:\n{_tail(proc.stdout)}"
        )
    return base


class BskyAccount(NamedTuple):
    """An account on the local PDS. Unpacks as (handle, did, password, app_password)."""

    handle: str
    did: str
    password: str
    app_password: str


@dataclass
class BskyNetwork:
    """A running local Bluesky network. Made by :func:`bsky_network`."""

    pds_url: str
    appview_url: str
    plc_url: str
    info: dict[str, Any]
    db_name: str
    stderr_path: Path
    _proc: subprocess.Popen = field(repr=False)
    _lines: queue.Queue = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_id: int = 0
    _http: requests.Session = field(default_factory=requests.Session, repr=False)

    # -- indexing -----------------------------------------------------------------

    def process(self, timeout: float = 30.0) -> None:
        """Run one full ``network.processAll()`` now and wait for it to finish.

        The network also does this by itself about every second; call this to make
        what was just written (posts, likes, follows, new accounts) visible in the
        AppView right away.
        """
        with self._lock:
            if self._proc.poll() is not None:
                raise PeersError(f"the Bluesky network has exited:\n{_read_tail(self.stderr_path)}")
            self._next_id += 1
            cmd_id = self._next_id
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps({"cmd": "process", "id": cmd_id}) + "\n")
            self._proc.stdin.flush()
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PeersError(f"processAll() did not finish within {timeout} s")
                try:
                    line = self._lines.get(timeout=remaining)
                except queue.Empty:
                    continue
                if line is None:
                    raise PeersError(
                        f"the Bluesky network has exited:\n{_read_tail(self.stderr_path)}"
                    )
                reply = json.loads(line)
                if reply.get("id") != cmd_id:
                    continue
                if not reply.get("ok"):
                    raise PeersError(f"processAll() failed: {reply.get('error')}")
                return

    # -- accounts ---------------------------------------------------------------------

    def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        base: str | None = None,
        **kw: Any,
    ):
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        resp = self._http.request(
            method, f"{base or self.pds_url}/xrpc/{nsid}", headers=headers, timeout=30, **kw
        )
        return resp

    def create_account(
        self, handle_prefix: str = "user", *, password: str | None = None
    ) -> BskyAccount:
        """Create an account on the PDS, plus an app password for it.

        The handle is ``<prefix><random>.test`` (the PDS serves ``.test`` handles; invite
        codes are off in dev-env's PDS). Returns once the AppView has indexed the new
        account, so :meth:`client` can log in straight away.
        """
        slug = re.sub(r"[^a-z0-9-]", "", handle_prefix.lower()).strip("-")[:12] or "user"
        handle = f"{slug}{secrets.token_hex(3)}.test"
        password = password or f"pw-{secrets.token_urlsafe(12)}"
        resp = self._xrpc(
            "POST",
            "com.atproto.server.createAccount",
            json={"handle": handle, "email": f"{handle}@example.com", "password": password},
        )
        if resp.status_code != 200:
            raise PeersError(f"createAccount {handle} failed: {resp.status_code} {resp.text}")
        session = resp.json()
        did = session["did"]
        resp = self._xrpc(
            "POST",
            "com.atproto.server.createAppPassword",
            token=session["accessJwt"],
            json={"name": f"momento-{secrets.token_hex(3)}"},
        )
        if resp.status_code != 200:
            raise PeersError(
                f"createAppPassword for {handle} failed: {resp.status_code} {resp.text}"
            )
        app_password = resp.json()["password"]
        self.wait_for_profile(did)
        return BskyAccount(handle, did, password, app_password)

    def wait_for_profile(self, actor: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until the AppView answers app.bsky.actor.getProfile for ``actor``."""
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            resp = self._xrpc(
                "GET", "app.bsky.actor.getProfile", base=self.appview_url, params={"actor": actor}
            )
            if resp.status_code == 200:
                return resp.json()
            last = f"{resp.status_code} {resp.text[:200]}"
            if time.monotonic() > deadline:
                raise PeersError(
                    f"the AppView did not index {actor} within {timeout} s (last answer: {last})"
                )
            self.process()
            time.sleep(0.2)

    def client(self, handle: str, password: str, *, timeout: float = 30.0):
        """Return an ``atproto.Client`` logged in on the local PDS.

        ``password`` may be the account password or an app password. Login fetches the
        account's profile from the AppView, so this retries (forcing indexing) until
        that succeeds or ``timeout`` passes.
        """
        from atproto import Client
        from atproto.exceptions import AtProtocolError

        deadline = time.monotonic() + timeout
        while True:
            client = Client(base_url=f"{self.pds_url}/xrpc")
            try:
                client.login(handle, password)
                return client
            except AtProtocolError as exc:
                if time.monotonic() > deadline:
                    raise PeersError(
                        f"could not log in as {handle} within {timeout} s: {exc!r}"
                    ) from exc
                self.process()
                time.sleep(0.3)

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def pid(self) -> int:
        return self._proc.pid


def _pg_connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def _create_database(admin_url: str, name: str) -> None:
    from psycopg import sql

    with _pg_connect(admin_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database(admin_url: str, name: str) -> None:
    from psycopg import sql

    with _pg_connect(admin_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_stale(admin_url: str) -> None:
    """Drop databases and temporary folders left by runs whose process was killed.

    Their names carry the creating process's pid (``momento_bsky_<pid>_<hex>``,
    ``momento-bsky-<pid>-...``); those whose process no longer exists are removed.
    """
    from psycopg import sql

    with _pg_connect(admin_url) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'momento\\_bsky\\_%'"
            )
        ]
        for name in names:
            match = re.fullmatch(r"momento_bsky_(\d+)_[0-9a-f]+", name)
            if match and not _pid_alive(int(match.group(1))):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
    _sweep_stale_folders()


def _sweep_stale_folders() -> None:
    for folder in Path(tempfile.gettempdir()).glob("momento-*-*-*"):
        match = re.fullmatch(r"momento-(?:bsky|mastodon)-(\d+)-.+", folder.name)
        if match and folder.is_dir() and not _pid_alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@contextlib.contextmanager
def bsky_network(
    tmp_path: str | os.PathLike[str] | None = None,
    *,
    rate_limits: bool = False,
    startup_timeout: float = 120.0,
    pg_url: str | None = None,
    redis_host: str | None = None,
    auto_install: bool | None = None,
) -> Iterator[BskyNetwork]:
    """Run a local Bluesky network for the duration of the ``with`` block.

    ``tmp_path``: a folder for the network's files (its TMPDIR, where the PDS keeps its
    SQLite files and blobs, and the process's stderr log); a temporary folder that is
    removed afterwards when None. ``rate_limits`` turns on the PDS's rate limits.
    """
    base = ensure_bsky_installed(auto_install=auto_install)
    node = base / "node" / "bin" / "node"
    app_dir = base / "app"
    admin_url = pg_url or os.environ.get("MOMENTO_PEERS_PG_URL") or DEFAULT_PG_URL
    redis_host = redis_host or os.environ.get("MOMENTO_PEERS_REDIS_HOST") or DEFAULT_REDIS_HOST

    try:
        _sweep_stale(admin_url)
    except Exception as exc:  # psycopg.OperationalError and friends
        raise PeersError(f"cannot reach PostgreSQL via {admin_url}: {exc}") from exc

    with contextlib.ExitStack() as stack:
        if tmp_path is None:
            workdir = Path(tempfile.mkdtemp(prefix=f"momento-bsky-{os.getpid()}-"))
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        else:
            workdir = Path(tempfile.mkdtemp(prefix="bsky-", dir=tmp_path))
        node_tmp = workdir / "tmp"
        node_tmp.mkdir()
        stderr_path = workdir / "bsky_network.stderr.log"

        db_name = f"momento_bsky_{os.getpid()}_{secrets.token_hex(4)}"
        try:
            _create_database(admin_url, db_name)
        except Exception as exc:  # psycopg.OperationalError and friends
            raise PeersError(
                f"cannot create PostgreSQL database {db_name} via {admin_url}: {exc}"
            ) from exc
        stack.callback(_drop_database, admin_url, db_name)

        env = dict(os.environ)
        for key in ("NODE_OPTIONS", "LOG_ENABLED", "LOG_DESTINATION"):
            env.pop(key, None)
        env.update(
            DB_POSTGRES_URL=_with_database(admin_url, db_name),
            DB_POSTGRES_SCHEMA="momento",
            REDIS_HOST=redis_host,
            BSKY_PDS_RATE_LIMITS="1" if rate_limits else "0",
            MOMENTO_PEERS_APP_DIR=str(app_dir),
            NODE_PATH=str(app_dir / "node_modules"),
            TMPDIR=str(node_tmp),
            PATH=f"{node.parent}{os.pathsep}{env.get('PATH', '')}",
        )
        stderr_file = stack.enter_context(open(stderr_path, "w"))
        proc = subprocess.Popen(
            [str(node), str(NETWORK_SCRIPT)],
            cwd=app_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            start_new_session=True,
        )
        stack.callback(_stop_process, proc, timeout=30)
        stack.callback(_close_stdin, proc)  # runs first: the end of stdin also stops it

        lines: queue.Queue = queue.Queue()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, name="bsky-network-stdout", daemon=True).start()

        started = time.monotonic()
        try:
            first = lines.get(timeout=startup_timeout)
        except queue.Empty:
            first = "timeout"
        if first is None or first == "timeout":
            with contextlib.suppress(Exception):
                proc.wait(timeout=0.5)
            state = "timed out" if first == "timeout" else f"exited with code {proc.poll()}"
            raise PeersError(
                f"the Bluesky network {state} before it was ready "
                f"(after {time.monotonic() - started:.1f} s). stderr ({stderr_path}) ends with:\n"
                f"{_read_tail(stderr_path)}"
            )
        try:
            info = json.loads(first)
        except json.JSONDecodeError as exc:
            raise PeersError(f"unexpected first line from bsky_network.mjs: {first!r}") from exc

        network = BskyNetwork(
            pds_url=info["pds"],
            appview_url=info["appview"],
            plc_url=info["plc"],
            info=info,
            db_name=db_name,
            stderr_path=stderr_path,
            _proc=proc,
            _lines=lines,
        )
        stack.callback(network._http.close)
        yield network


# --------------------------------------------------------------------------------------
# Mastodon (mastodon_mock)
# --------------------------------------------------------------------------------------


def _toml_str(value: str) -> str:
    # JSON string escapes (\" \\ \n \uXXXX ...) are valid TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _toml_table(name: str, values: Mapping[str, Any], *, array: bool = False) -> str:
    head = f"[[{name}]]" if array else f"[{name}]"
    body = "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items() if v is not None)
    return f"{head}\n{body}\n"


@dataclass
class MastodonMock:
    """A running mastodon_mock server. Made by :func:`mastodon_mock`."""

    base_url: str
    tokens: dict[str, str]
    accounts: list[dict[str, Any]]
    config_path: Path
    log_path: Path
    _proc: subprocess.Popen = field(repr=False)

    def client(self, account: str, **kwargs: Any):
        """A ``mastodon.Mastodon`` client logged in as a seeded account.

        Keyword arguments go to ``Mastodon(...)``. Unlike Mastodon.py's default
        (``"wait"``, which sleeps until the reset time, up to 5 minutes), the default
        ``ratelimit_method`` here is ``"throw"``, so a 429 raises MastodonRatelimitError.
        """
        from mastodon import Mastodon

        if account not in self.tokens:
            raise KeyError(f"no seeded account {account!r}; seeded: {', '.join(self.tokens)}")
        kwargs.setdefault("ratelimit_method", "throw")
        kwargs.setdefault("request_timeout", 30)
        return Mastodon(access_token=self.tokens[account], api_base_url=self.base_url, **kwargs)

    def inject_fault(
        self,
        *,
        path: str | None = None,
        path_regex: str | None = None,
        methods: Iterable[str] | None = None,
        type: str = "status",
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        delay_ms: int = 0,
        truncate: bool = True,
        count: int | None = 1,
    ) -> dict[str, Any]:
        """Add a fault rule via ``POST /api/v1/_mock/faults``; returns the rule.

        ``type``: ``status`` (answer ``status``), ``ratelimit`` (429 with
        ``X-RateLimit-Limit: 300``, ``X-RateLimit-Remaining: 0``, ``X-RateLimit-Reset``
        as epoch seconds now+300 and ``Retry-After: 300``, each overridable with
        ``headers``), ``latency`` (``delay_ms`` then the real answer), ``malformed``
        (a 200 with broken JSON) or ``timeout`` (hold the request >= 30 s).
        ``path`` is exact or a glob (``*``); no path matches every request.
        ``count`` is how many requests it hits (None: until cleared). Mock-only
        ``/api/v1/_mock/*`` paths are never faulted.
        """
        effect: dict[str, Any] = {"type": type, "delay_ms": delay_ms, "truncate": truncate}
        if status is not None:
            effect["status"] = status
        if headers is not None:
            effect["headers"] = dict(headers)
        if body is not None:
            effect["body"] = body
        rule = {
            "match": {
                "methods": list(methods) if methods is not None else None,
                "path": path,
                "path_regex": path_regex,
            },
            "effect": effect,
            "count": count,
        }
        resp = requests.post(f"{self.base_url}/api/v1/_mock/faults", json=rule, timeout=10)
        if resp.status_code != 200:
            raise PeersError(f"adding a fault failed: {resp.status_code} {resp.text}")
        return resp.json()

    def clear_faults(self) -> None:
        requests.delete(f"{self.base_url}/api/v1/_mock/faults", timeout=10).raise_for_status()

    def reset(self) -> None:
        """Back to the seeded state (``POST /api/v1/_mock/reset``)."""
        requests.post(f"{self.base_url}/api/v1/_mock/reset", timeout=10).raise_for_status()

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def pid(self) -> int:
        return self._proc.pid


def _normalize_accounts(accounts: Iterable[str | Mapping[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for item in accounts:
        acct = {"username": item} if isinstance(item, str) else dict(item)
        if not re.fullmatch(r"[A-Za-z0-9_]+", acct.get("username", "")):
            raise ValueError(f"bad Mastodon username {acct.get('username')!r}")
        acct.setdefault("display_name", acct["username"].capitalize())
        acct.setdefault("access_token", f"{acct['username']}-token-{secrets.token_hex(8)}")
        result.append(acct)
    if not result:
        raise ValueError("mastodon_mock needs at least one account")
    return result


# `mastodon_mock serve ...` (the package's console script, mastodon_mock.cli:main), plus
# a watchdog: the server exits when its stdin closes, so it cannot outlive a test run
# that was killed before it could stop the server.
_MASTODON_MOCK_MAIN = (
    "import os, sys, threading\n"
    "threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()\n"
    "from mastodon_mock.cli import main\n"
    "main(sys.argv[1:])\n"
)


@contextlib.contextmanager
def mastodon_mock(
    accounts: Iterable[str | Mapping[str, Any]] = ("alice", "bob"),
    *,
    follows: Iterable[tuple[str, str]] = (),
    tmp_path: str | os.PathLike[str] | None = None,
    extra_config: Mapping[str, Mapping[str, Any]] | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[MastodonMock]:
    """Run mastodon_mock on 127.0.0.1 and a free port for the ``with`` block.

    ``accounts``: usernames, or dicts with SeedAccount fields (``username``,
    ``display_name``, ``note``, ``locked``, ``bot``, ``access_token``, ``email``,
    ``role``); a token is made for each account that has none.
    ``follows``: (follower, following) username pairs to seed.
    ``extra_config``: more top-level tables, e.g. ``{"ratelimit": {"enabled": True,
    "limit": 5, "window_seconds": 60}}``.
    """
    seeded = _normalize_accounts(accounts)
    _sweep_stale_folders()
    with contextlib.ExitStack() as stack:
        if tmp_path is None:
            workdir = Path(tempfile.mkdtemp(prefix=f"momento-mastodon-{os.getpid()}-"))
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        else:
            workdir = Path(tempfile.mkdtemp(prefix="mastodon-", dir=tmp_path))
        config_path = workdir / "mastodon_mock.toml"
        log_path = workdir / "mastodon_mock.log"

        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probe and bind
            port = _free_port()
            toml = _toml_table("server", {"host": "127.0.0.1", "port": port})
            toml += _toml_table("database", {"path": ":memory:"})
            for name, table in (extra_config or {}).items():
                toml += _toml_table(name, table)
            for acct in seeded:
                toml += _toml_table("seed.accounts", acct, array=True)
            for follower, following in follows:
                toml += _toml_table(
                    "seed.follows", {"follower": follower, "following": following}, array=True
                )
            config_path.write_text(toml)

            log_file = open(log_path, "w")
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _MASTODON_MOCK_MAIN,
                    "serve",
                    "--config",
                    str(config_path),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + startup_timeout
            ready = False
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if requests.get(f"{base_url}/api/v1/instance", timeout=2).status_code == 200:
                        ready = True
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            if ready:
                stack.callback(log_file.close)
                stack.callback(_stop_process, proc, timeout=10)
                stack.callback(_close_stdin, proc)
                break
            _close_stdin(proc)
            _stop_process(proc, timeout=5)
            log_file.close()
            last_error = _read_tail(log_path)
            if "address already in use" not in last_error.lower():
                raise PeersError(
                    f"mastodon_mock did not start within {startup_timeout} s; log:\n{last_error}"
                )
        else:
            raise PeersError(f"mastodon_mock could not bind a port; log:\n{last_error}")

        yield MastodonMock(
            base_url=base_url,
            tokens={a["username"]: a["access_token"] for a in seeded},
            accounts=seeded,
            config_path=config_path,
            log_path=log_path,
            _proc=proc,
        )
