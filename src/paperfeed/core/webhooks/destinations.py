"""Which addresses a webhook may post to, checked when it is saved and again before every request.

A webhook URL is typed by a member and fetched by the server, so it must not reach what only the server can reach
(its own services, the cloud's metadata address, the office network): https only, no user name or password in it,
and every address its host resolves to must be a public one — not private, loopback, link-local, multicast,
reserved, unspecified or otherwise not global. DNS can change between saving and sending (or between the check and
the connection, "DNS rebinding"), so the sender resolves once, checks every address, and connects to a checked
address itself (`Destination.addresses`), never letting the HTTP client resolve the name again.

`allow_loopback` (a setting, for tests and a laptop) lets exactly `http(s)://127.0.0.1`, `localhost` and `[::1]`
through, to loopback addresses only; any other name that resolves to a loopback address is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_URL_CHARS = 500
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list]


class UrlRefused(ValueError):
    """An address no webhook may post to; the message says why, in the member's terms."""


class HostNotFound(Exception):
    """The host name does not resolve now (it may later: at sending time this is a temporary failure)."""


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str  # lower case, without brackets
    port: int
    loopback_allowed: bool  # allow_loopback was on and the host is one of LOOPBACK_NAMES
    addresses: tuple[Address, ...] = field(default=())  # once resolved and checked

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"

    def url_for(self, address: Address) -> str:
        """The same URL with the host replaced by one of its checked addresses (Host and SNI keep the name)."""
        parts = urlsplit(self.url)
        shown = f"[{address}]" if address.version == 6 else str(address)
        path = parts.path or "/"
        return f"{self.scheme}://{shown}:{self.port}{path}" + (f"?{parts.query}" if parts.query else "")


def _shown(url: str) -> str:
    return url if len(url) <= 80 else url[:79] + "…"


def parse(url: str, allow_loopback: bool = False) -> Destination:
    """The destination a URL names, or UrlRefused saying what is wrong with it (no DNS look-up yet)."""
    url = (url or "").strip()
    if not url:
        raise UrlRefused("Give the webhook's address, as the chat service shows it (https://…).")
    if len(url) > MAX_URL_CHARS:
        raise UrlRefused(f"That address is {len(url)} characters long; a webhook address has at most {MAX_URL_CHARS}.")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise UrlRefused("The address holds spaces or control characters: paste it again exactly as given.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UrlRefused(f"{_shown(url)!r} is not a web address ({error}).") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise UrlRefused(f"{_shown(url)!r} is not a web address: a webhook address starts with https://")
    if "@" in parts.netloc:
        raise UrlRefused(
            "The address holds a user name or password (the part before @): webhooks carry their key in the path. "
            "Paste the address exactly as the chat service gave it."
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused(f"{_shown(url)!r} names no host.")
    try:
        host.encode("idna")
    except UnicodeError:
        raise UrlRefused(f"{host!r} is not a valid host name.") from None
    scheme = parts.scheme.lower()
    loopback = allow_loopback and host in LOOPBACK_NAMES
    if scheme != "https" and not loopback:
        raise UrlRefused(
            f"Only https:// addresses are accepted (this one starts with {scheme}://): what is posted to the "
            "webhook, and its key, must not cross the network in clear text."
        )
    destination = Destination(url, scheme, host, port or (443 if scheme == "https" else 80), loopback)
    literal = _literal(host)
    if literal is not None:
        _check(destination, literal, literal_host=True)
    return destination


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def why_refused(address: Address) -> str | None:
    """Why this address may not receive webhooks (in words), or None when it is a public internet address."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for test, words in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address (the server itself)"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private network address"),
    ):
        if getattr(address, test):
            return words
    if not address.is_global:
        return "not a public internet address"
    return None


def _check(destination: Destination, address: Address, literal_host: bool = False) -> None:
    if destination.loopback_allowed and address.is_loopback:
        return
    why = why_refused(address)
    if why is None:
        return
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # shown as the IPv4 address it is
    if literal_host:
        raise UrlRefused(f"{address} is {why}: webhooks only go to public internet addresses.")
    raise UrlRefused(f"{destination.host} resolves to {address}, {why}: webhooks only go to public internet addresses.")


def resolve(destination: Destination, resolver: Resolver = socket.getaddrinfo) -> Destination:
    """The destination with every address its host resolves to now, each checked: UrlRefused when any is not a
    public address (or, with loopback allowed, not loopback), HostNotFound when the name does not resolve."""
    try:
        found = resolver(destination.host, destination.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise HostNotFound(f"the host name {destination.host} cannot be resolved now ({reason})") from None
    addresses: list[Address] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotFound(f"the host name {destination.host} has no address")
    for address in addresses:
        _check(destination, address)
    return Destination(
        destination.url,
        destination.scheme,
        destination.host,
        destination.port,
        destination.loopback_allowed,
        tuple(addresses),
    )


def check(url: str, allow_loopback: bool = False, resolver: Resolver = socket.getaddrinfo) -> Destination:
    """parse, then resolve: the destination, ready to connect to, or UrlRefused / HostNotFound."""
    return resolve(parse(url, allow_loopback), resolver)
