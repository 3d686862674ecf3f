"""Ways for a send to fail on loopback, for the outbox's "nothing was posted" versus
"outcome unknown" tests: a name that does not resolve, a closed port, a port whose
accept queue is full (a connect timeout), a plain-HTTP port spoken to in TLS (a failed
handshake), and servers that read the request and then hang or hang up.

Each yields a base URL; ``NEVER_SENT`` and ``MAYBE_SENT`` name the ones of each kind."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import requests

#: RFC 6761: ``.invalid`` never resolves.
UNRESOLVABLE = "http://momento-outbox-test.invalid"

NEVER_SENT = ["unresolvable", "closed_port", "connect_timeout", "tls_handshake"]
MAYBE_SENT = ["read_timeout", "hang_up"]


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@contextlib.contextmanager
def _full_accept_queue() -> Iterator[str]:
    """A listening port nobody accepts on, its queue filled: the kernel drops further
    connection attempts, which time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.settimeout(0.3)
            fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break  # the queue is full
        else:
            raise RuntimeError("the accept queue never filled")
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@contextlib.contextmanager
def _server(mode: str) -> Iterator[str]:
    """A server that reads each request, then answers plain HTTP (``http``), hangs until
    the test ends (``hang``) or closes the connection (``close``)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    done = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(2)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            if mode == "http":
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                conn.close()
            elif mode == "hang":
                held.append(conn)
            else:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        yield f"{'https' if mode == 'http' else 'http'}://127.0.0.1:{port}"
    finally:
        done.set()
        thread.join(timeout=2)
        listener.close()
        for conn in held:
            conn.close()


@contextlib.contextmanager
def failing_base_url(case: str) -> Iterator[str]:
    """The base URL of a network that fails as ``case`` says, for as long as it is open."""
    if case == "unresolvable":
        yield UNRESOLVABLE
    elif case == "closed_port":
        yield f"http://127.0.0.1:{closed_port()}"
    elif case == "connect_timeout":
        with _full_accept_queue() as url:
            yield url
    elif case == "tls_handshake":
        with _server("http") as url:
            yield url
    elif case == "read_timeout":
        with _server("hang") as url:
            yield url
    elif case == "hang_up":
        with _server("close") as url:
            yield url
    else:
        raise ValueError(case)


def requests_error(case: str) -> requests.RequestException:
    """The exception ``requests`` really raises for ``case`` (for X, whose client is
    requests and which has no local server: ``responses`` raises it in its place)."""
    with failing_base_url(case) as url:
        try:
            requests.post(f"{url}/2/tweets", timeout=1)
        except requests.RequestException as exc:
            return exc
    raise AssertionError(f"{case}: the request went through")
