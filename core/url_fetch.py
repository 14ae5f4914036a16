"""The one guarded way to make a request to a URL a user gave us (``image_url``, ``mask_url``;
outbound ``webhook_url`` too).

Each hop of the request is checked before anything is sent: http or https only, no credentials
in the URL, and the host resolved once with every address it resolves to public (not loopback,
private, link-local, carrier-grade NAT, multicast, reserved, unspecified, the cloud metadata
address, nor their IPv6 and IPv4-mapped forms). The connection then goes to the address that was
checked: the network backend below connects to it whatever name the HTTP client asks for, so a
second DNS answer (rebinding) can never switch it, while the ``Host`` header, TLS SNI and the
certificate check keep the host name. Redirects are followed by hand, at most a few, each one
checked like the first. The body is streamed with a size cap and a total time limit.

Hosts named in ``ATELIER_URL_FETCH_ALLOWED_HOSTS`` (``host`` or ``host:port``) skip the address
check, for fakes in tests and a self-hosted ComfyUI on the local network; they are still pinned.
"""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from core.errors import UrlRefused
from core.numbers import parse_int

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "Atelier/1.0 (+image inputs)"

# Ranges Python's ipaddress flags do not all cover on every version, named for the message.
_EXTRA_BLOCKED = [
    (ipaddress.ip_network("100.64.0.0/10"), "carrier-grade NAT"),
    (ipaddress.ip_network("192.0.0.0/24"), "IETF protocol assignments"),
    (ipaddress.ip_network("198.18.0.0/15"), "benchmarking"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "local-use NAT64"),
    (ipaddress.ip_network("fd00:ec2::254/128"), "cloud metadata"),
]
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """Where a checked URL may be fetched from: its host and port, and the address to connect to."""

    host: str
    port: int
    address: str


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    data: bytes


def address_refusal(address: str) -> str | None:
    """Why ``address`` is not a public one we may connect to, or None when it is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = address_refusal(str(embedded))
            return f"{reason} (embedded in {ip})" if reason else None
    if ip in _METADATA:
        return f"is the cloud metadata address ({ip})"
    for network, name in _EXTRA_BLOCKED:
        if ip.version == network.version and ip in network:
            return f"is a {name} address ({ip})"
    checks = [
        (ip.is_unspecified, "an unspecified"),
        (ip.is_loopback, "a loopback"),
        (ip.is_link_local, "a link-local"),
        (ip.is_multicast, "a multicast"),
        (ip.is_private, "a private"),
        (ip.is_reserved, "a reserved"),
        (not ip.is_global, "a non-public"),
    ]
    for flagged, name in checks:
        if flagged:
            return f"is {name} address ({ip})"
    return None


def _host_allowed(host: str, port: int) -> bool:
    allowed = {entry.strip().lower() for entry in settings.ATELIER_URL_FETCH_ALLOWED_HOSTS if entry.strip()}
    bare = host.strip("[]")
    return bare in allowed or f"{bare}:{port}" in allowed or f"[{bare}]:{port}" in allowed


def _resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (literal IPs, decimal or octal forms included)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UrlRefused(f"The host '{host}' could not be resolved") from exc
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise UrlRefused(f"The host '{host}' could not be resolved")
    return addresses


def url_target_check(url: str) -> Target:
    """The host, port and address to connect to for a URL we may fetch, or raises UrlRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("The URL is malformed") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused(f"Only http and https URLs are accepted, not '{scheme or 'none'}'")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("URLs with credentials are not accepted")
    host = (parts.hostname or "").lower()
    if not host:
        raise UrlRefused("The URL has no host")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not _host_allowed(host, port):
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise UrlRefused(
                    f"The host '{host}' resolves to an address that is not public: it {reason}. An operator "
                    "lets a host they trust through by naming it (host or host:port) in the "
                    "ATELIER_URL_FETCH_ALLOWED_HOSTS setting."
                )
    return Target(host=host, port=port, address=addresses[0])


def pinned_client(address: str, *, timeout: float, connect_timeout: float):
    """An HTTP client whose connections all go to ``address`` (from ``url_target_check``), whatever
    host the URL names, with the URL's host kept for ``Host``, SNI and the certificate check. It
    follows no redirects and reads no proxy settings from the environment."""
    # httpx2 and httpcore2 load on first use, so that no process pays for them at start-up.
    import httpcore2
    import httpx2

    class PinnedBackend(httpcore2.SyncBackend):
        """Connects to the checked address whatever host name the connection pool asks for."""

        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            return super().connect_tcp(address, port, timeout, local_address, socket_options)

    transport = httpx2.HTTPTransport(trust_env=False)
    # httpx2's transport builds a pool with the default backend and offers no parameter for
    # another; the pool is replaced by the same one with the pinning backend.
    bundle = settings.ATELIER_URL_FETCH_CA_BUNDLE
    # Certificates are checked against the URL's host name (the pool's SNI and hostname check),
    # never against the pinned address.
    ssl_context = ssl.create_default_context(cafile=bundle) if bundle else httpx2.create_ssl_context(trust_env=False)
    transport._pool = httpcore2.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=1,
        network_backend=PinnedBackend(),
    )
    return httpx2.Client(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx2.Timeout(timeout, connect=connect_timeout),
        headers={"User-Agent": USER_AGENT},
    )


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def fetch_public_url(
    url: str,
    *,
    max_bytes: int | None = None,
    allowed_content_types: frozenset[str] | set[str] | None = None,
    timeout: float | None = None,
    method: str = "GET",
    content: bytes | None = None,
    headers: dict | None = None,
    max_redirects: int | None = None,
    accept_error_status: bool = False,
) -> Fetched:
    """Requests ``url`` through the guard and returns the answer's body (at most ``max_bytes``).

    ``timeout`` bounds the whole exchange, redirects and body included. Raises ``UrlRefused``
    (400 ``invalid_image_url``) with the reason for anything refused or failed; callers with
    another error type (webhooks) catch it and re-raise their own.
    """
    # Loaded on first use, as in pinned_client.
    import httpx2

    max_bytes = settings.ATELIER_URL_FETCH_MAX_BYTES if max_bytes is None else max_bytes
    timeout = settings.ATELIER_URL_FETCH_TIMEOUT_SECONDS if timeout is None else timeout
    max_redirects = settings.ATELIER_URL_FETCH_MAX_REDIRECTS if max_redirects is None else max_redirects
    connect_timeout = min(timeout, settings.ATELIER_URL_FETCH_CONNECT_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    current = url
    for hop in range(max_redirects + 1):
        target = url_target_check(current)
        host, address = target.host, target.address
        remaining = max(0.1, deadline - time.monotonic())
        try:
            with (
                pinned_client(address, timeout=remaining, connect_timeout=min(connect_timeout, remaining)) as client,
                client.stream(method, current, content=content, headers=headers) as response,
            ):
                if response.status_code in REDIRECT_STATUSES and response.headers.get("location"):
                    if hop >= max_redirects:
                        raise UrlRefused(f"Too many redirects (at most {max_redirects} are followed)")
                    current = urljoin(current, response.headers["location"])
                    if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                        method, content = "GET", None
                    continue
                if response.status_code >= 400 and not accept_error_status:
                    raise UrlRefused(f"The URL answered HTTP {response.status_code}")
                media_type = _media_type(response.headers.get("content-type", ""))
                if allowed_content_types is not None and media_type not in allowed_content_types:
                    raise UrlRefused(
                        f"The URL answered with content type '{media_type or 'none'}'; "
                        f"expected one of: {', '.join(sorted(allowed_content_types))}"
                    )
                declared = parse_int(response.headers.get("content-length", ""))
                if declared is not None and declared > max_bytes:
                    raise UrlRefused(f"The file at the URL is larger than {max_bytes} bytes")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise UrlRefused(f"The file at the URL is larger than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise UrlRefused(f"Fetching the URL took longer than {timeout:g} s")
                return Fetched(url=current, status=response.status_code, content_type=media_type, data=bytes(body))
        except httpx2.TimeoutException as exc:
            raise UrlRefused(f"Fetching the URL timed out after {timeout:g} s") from exc
        except httpx2.InvalidURL as exc:
            raise UrlRefused("The URL is malformed") from exc
        except httpx2.HTTPError as exc:
            raise UrlRefused(f"The URL could not be fetched from '{host}': {exc.__class__.__name__}") from exc
    raise UrlRefused(f"Too many redirects (at most {max_redirects} are followed)")
