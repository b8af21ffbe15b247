"""Which addresses the bot may fetch: public ones, or hosts an admin allowed.

The host is resolved *before* connecting and every address it resolves to must
be public (not loopback, private, link-local — which holds the cloud metadata
service 169.254.169.254 —, shared, multicast or reserved). The caller then
connects to the address that was checked, so a second DNS answer cannot swap
in an internal one (rebinding). Checked again at every redirect hop.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Resolver = Callable[[str, int], list[str]]
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
            ipaddress.ip_address("100.100.100.200")}


class Refused(Exception):
    """The URL points somewhere the bot must not fetch; the message says why (no secrets)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise LookupError(f"DNS lookup failed for {host}") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and ip not in METADATA


@dataclass(frozen=True)
class AddressPolicy:
    """`allowed`: host names or IP literals (as written in URLs) and CIDR ranges that may be
    fetched even though they are not public — for an intranet wiki, or tests' local servers."""

    allowed: tuple[str, ...] = ()
    resolve: Resolver = system_resolver

    @classmethod
    def from_list(cls, allowed: Iterable[str], resolve: Resolver | None = None) -> AddressPolicy:
        return cls(tuple(a.strip().lower() for a in allowed if a.strip()), resolve or system_resolver)

    def _networks(self) -> list:
        nets = []
        for entry in self.allowed:
            if "/" in entry:
                try:
                    nets.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    pass
        return nets

    def address_for(self, host: str, port: int) -> str:
        """The address to connect to, or Refused."""
        host = host.strip("[]").lower()
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = self.resolve(host, port)
            except LookupError as exc:
                raise LookupError(str(exc)) from None
        if not addresses:
            raise LookupError(f"DNS lookup failed for {host}")
        if host in self.allowed:
            return addresses[0]
        nets = self._networks()
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not is_public(address) and not any(ip in net for net in nets):
                raise Refused(f"{host} resolves to a non-public address ({address}); not fetched")
        return addresses[0]
