"""Sending one webhook request safely: only to public addresses (unless allowed for
development), pinned to the address that was checked, no redirects, capped in size and
in total time.
"""

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

RESPONSE_BYTES_MAX = 64 * 1024


class UnsafeTarget(ValueError):
    """The URL is malformed, not https, or resolves to a non-public address."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def resolve_target(url: str, *, allow_local: bool) -> Target:
    """Check a webhook URL and pick the address to connect to. Raises UnsafeTarget."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget("not an http(s) URL")
    if parts.scheme == "http" and not allow_local:
        raise UnsafeTarget("only https URLs are allowed")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not allowed")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget("the host name does not resolve") from None
    addresses = [info[4][0] for info in infos]
    if not allow_local and any(not _is_public(address) for address in addresses):
        raise UnsafeTarget("the host resolves to a private, loopback or link-local address")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address while verifying the certificate of the host name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Engage-Signature value: HMAC-SHA256 of "<timestamp>.<body>" with the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _host_header(target: Target) -> str:
    """The Host of the URL (we connect to its checked address): with a port that is not
    the scheme's default, and IPv6 literals in brackets, as RFC 9110 asks."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    default_port = 443 if target.scheme == "https" else 80
    return host if target.port == default_port else f"{host}:{target.port}"


class _Deadline:
    """Shuts a connection's socket down when its time is up, which ends whatever read or
    write is waiting on it: socket timeouts alone restart with every byte received."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float):
        self.expired = threading.Event()
        self._timer = threading.Timer(seconds, self._expire, args=(connection,))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, connection: http.client.HTTPConnection) -> None:
        self.expired.set()
        if connection.sock is not None:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed already

    def cancel(self) -> None:
        self._timer.cancel()


def post(target: Target, body: bytes, headers: dict, timeout: float) -> int:
    """POST the body and return the status; redirects are answers, not followed.

    Everything (connecting, sending, the answer) must be over within `timeout` seconds,
    or TimeoutError is raised: a receiver that trickles its answer is cut off.
    """
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout)
    else:
        connection = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    deadline = _Deadline(connection, timeout)
    try:
        connection.connect()
        if deadline.expired.is_set():  # it expired while connecting: nothing to shut yet
            raise TimeoutError
        connection.request(
            "POST", target.path, body=body, headers={**headers, "Host": _host_header(target)}
        )
        response = connection.getresponse()
        response.read(RESPONSE_BYTES_MAX)  # read a little, never the whole of a huge body
    except (OSError, http.client.HTTPException):
        if deadline.expired.is_set():
            raise TimeoutError("no complete answer in time") from None
        raise
    finally:
        deadline.cancel()
        connection.close()
    if deadline.expired.is_set():
        raise TimeoutError("no complete answer in time")
    return response.status
