"""Which webhook URLs and addresses meterd may send to.

A channel's URL is checked when it is set (scheme, length, no credentials, a host), and every address its
host resolves to is checked again when a delivery connects (so a name that later resolves to an internal
address, DNS rebinding included, is refused at that moment). By default only globally routable addresses
are allowed: loopback, link-local (169.254.0.0/16, where clouds serve instance metadata), private, shared
(100.64.0.0/10), unspecified, multicast and reserved ranges are refused, unless the setting
``notifications.allow_private_targets`` is true. Pure code: resolution is the caller's.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(ValueError):
    """A URL or address meterd will not send to; the message says why (no secret in it)."""


def parse_url(url: str, allow_private: bool) -> SplitResult:
    """The URL split into parts, or RefusedTarget saying what is wrong with it. A literal address is checked
    here; a host name only when it is resolved (``check_address``), except ``localhost`` names."""
    if not url:
        raise RefusedTarget("is required")
    if len(url) > MAX_URL_LENGTH:
        raise RefusedTarget(f"at most {MAX_URL_LENGTH} characters, got {len(url)}")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise RefusedTarget("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedTarget(f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise RefusedTarget("must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("must not carry credentials (user:password@); use custom_headers")
    host = parts.hostname
    if not host:
        raise RefusedTarget("has no host")
    if port == 0:
        raise RefusedTarget("port 0 is not a port to send to")
    literal = _literal(host)
    if literal is not None:
        check_address(literal, allow_private)
    elif not allow_private and (host == "localhost" or host.endswith(".localhost")):
        raise RefusedTarget(
            f"{host} is a loopback name; private targets are refused (notifications.allow_private_targets)"
        )
    else:
        try:
            host.encode("idna")
        except UnicodeError:
            raise RefusedTarget(f"host {host!r} is not a valid host name") from None
    return parts


def check_address(address: IPAddress, allow_private: bool) -> None:
    """RefusedTarget unless meterd may connect to ``address``."""
    if allow_private:
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_global and not address.is_multicast:
        return
    if address.is_loopback:
        kind = "loopback"
    elif address.is_link_local:
        kind = "link-local (cloud metadata lives there)"
    elif address.is_private:
        kind = "private"
    else:
        kind = "not globally routable"
    raise RefusedTarget(
        f"{address} is a {kind} address; private targets are refused (notifications.allow_private_targets)"
    )


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
