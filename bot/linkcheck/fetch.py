"""Fetch one evidence link the careful way and say what it answered.

HEAD first, GET when HEAD is refused; redirects followed by hand (at most
`max_redirects`), each hop's address checked by the guard and connected to
directly; short timeouts; at most `max_bytes` of a body read, and never kept;
no cookies; per-host headers (API tokens for an intranet wiki) added but never
logged. A clear User-Agent says who is asking.
"""
from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from . import page_date
from .guard import AddressPolicy, Refused

USER_AGENT = "launchgate-linkcheck/1.0 (evidence link check; see docs/integrations.md)"
REDIRECTS = {301, 302, 303, 307, 308}
PASSWORD_FIELD = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.I)


class Outcome:
    OK = "ok"                  # 2xx after redirects
    BROKEN = "broken"          # 4xx, refused address, bad redirect
    FAILING = "failing"        # 5xx, timeout, network: may be passing; counted before it breaks
    UNVERIFIED = "unverified"  # answered with a login page: the check cannot see the real page


@dataclass
class LinkResult:
    outcome: str
    reason: str
    http_status: int | None = None
    final_url: str | None = None
    last_modified: datetime | None = None
    etag: str | None = None
    page_date: datetime | None = None   # the date the page gives itself (items with `updated_date`)


@dataclass(frozen=True)
class FetchPolicy:
    addresses: AddressPolicy = AddressPolicy()
    host_headers: dict | None = None        # {host: {header: value}}; values are secrets
    login_urls: tuple[str, ...] = ()        # a final URL starting with one of these is a login page
    timeout: float = 5.0
    max_redirects: int = 5
    max_bytes: int = 65_536


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


class LinkFetcher:
    def __init__(self, policy: FetchPolicy, transport: httpx.BaseTransport | None = None):
        self.policy = policy
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))  # accept none, send none
        self.client = httpx.Client(timeout=httpx.Timeout(policy.timeout, connect=min(3.0, policy.timeout)),
                                   follow_redirects=False, cookies=jar, transport=transport, trust_env=False)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> LinkFetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check(self, url: str, date_rule: str | None = None) -> LinkResult:
        """`date_rule` (`meta:NAME` / `json:KEY`): also read the page's own date, so ask with GET."""
        try:
            return self._check(url, date_rule)
        except Refused as exc:
            return LinkResult(Outcome.BROKEN, str(exc), final_url=url)
        except LookupError as exc:
            return LinkResult(Outcome.FAILING, str(exc), final_url=url)
        except httpx.TimeoutException:
            return LinkResult(Outcome.FAILING, f"no answer within {self.policy.timeout:g} s", final_url=url)
        except (httpx.HTTPError, OSError, ValueError) as exc:
            return LinkResult(Outcome.FAILING, f"could not connect ({type(exc).__name__})", final_url=url)

    def _check(self, url: str, date_rule: str | None = None) -> LinkResult:
        current = httpx.URL(url)
        for _hop in range(self.policy.max_redirects + 1):
            if current.scheme not in ("http", "https") or not current.host:
                return LinkResult(Outcome.BROKEN, f"not an http(s) link: {current}", final_url=str(current))
            response = self._request("GET" if date_rule else "HEAD", current)
            if response.status_code >= 400 and not date_rule:  # HEAD refused or not supported: ask with GET
                response = self._request("GET", current)
            if response.status_code in REDIRECTS and response.headers.get("location"):
                current = current.join(response.headers["location"])
                continue
            result = self._result(current, response)
            result.page_date = page_date.read(date_rule, response.extensions.get("lg_head", b""))
            return result
        return LinkResult(Outcome.BROKEN, f"more than {self.policy.max_redirects} redirects", final_url=str(current))

    def _request(self, method: str, url: httpx.URL) -> httpx.Response:
        port = url.port or (443 if url.scheme == "https" else 80)
        address = self.policy.addresses.address_for(url.host, port)
        host_header = url.host if url.port is None else f"{url.host}:{url.port}"
        if ":" in url.host and not url.host.startswith("["):
            host_header = f"[{url.host}]" + (f":{url.port}" if url.port else "")
        headers = {"User-Agent": USER_AGENT, "Host": host_header, "Accept": "text/html,*/*;q=0.5"}
        headers.update((self.policy.host_headers or {}).get(url.host.lower(), {}))
        request = httpx.Request(method, url.copy_with(host=address), headers=headers,
                                extensions={"sni_hostname": url.host,
                                            "timeout": self.client.timeout.as_dict()})
        response = self.client.send(request, stream=True)
        try:
            if method == "GET":
                read = b""
                for chunk in response.iter_bytes():
                    read += chunk
                    if len(read) >= self.policy.max_bytes:
                        break
                response.extensions["lg_head"] = read[: self.policy.max_bytes]  # looked at, never stored
        finally:
            response.close()
        return response

    def _result(self, url: httpx.URL, response: httpx.Response) -> LinkResult:
        status, final = response.status_code, str(url)
        meta = dict(http_status=status, final_url=final, last_modified=_http_date(response.headers.get("last-modified")),
                    etag=(response.headers.get("etag") or None))
        if 200 <= status < 300:
            if any(final.startswith(prefix) for prefix in self.policy.login_urls):
                return LinkResult(Outcome.UNVERIFIED, "answered with a login page", **meta)
            if PASSWORD_FIELD.search(response.extensions.get("lg_head", b"")):
                return LinkResult(Outcome.UNVERIFIED, "answered with a login form", **meta)
            return LinkResult(Outcome.OK, f"{status}", **meta)
        if status in REDIRECTS:
            return LinkResult(Outcome.BROKEN, f"{status} redirect without a Location", **meta)
        if status == 429 or status >= 500:
            return LinkResult(Outcome.FAILING, f"{status}", **meta)
        return LinkResult(Outcome.BROKEN, f"{status}", **meta)
