"""The evidence-link fetcher against real local servers: redirects, HEAD/GET, caps, headers,
cookies, and the address guard (loopback, private and metadata addresses are refused)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from bot.linkcheck.fetch import USER_AGENT, FetchPolicy, LinkFetcher, Outcome
from bot.linkcheck.guard import AddressPolicy
from tests.local_http import LocalSite, page, redirect

LOCAL = AddressPolicy.from_list(["127.0.0.1"])  # tests allow their own servers explicitly


@pytest.fixture
def site():
    s = LocalSite().start()
    yield s
    s.stop()


def fetch(url, **kw):
    kw.setdefault("addresses", LOCAL)
    with LinkFetcher(FetchPolicy(**kw)) as fetcher:
        return fetcher.check(url)


def test_live_page_stores_status_final_url_last_modified_and_etag(site):
    site.routes["/article"] = page(Last_Modified="Tue, 03 Aug 2027 10:00:00 GMT", ETag='"v7"')
    result = fetch(site.url("/article"))
    assert result.outcome == Outcome.OK and result.http_status == 200
    assert result.final_url == site.url("/article")
    assert result.last_modified == datetime(2027, 8, 3, 10, 0, tzinfo=timezone.utc)
    assert result.etag == '"v7"'
    (seen,) = site.seen
    assert seen.method == "HEAD" and seen.headers["user-agent"] == USER_AGENT
    assert seen.headers["host"] == f"127.0.0.1:{site.port}"


def test_head_refused_then_get(site):
    site.routes["/no-head"] = lambda req: (405, {}, b"") if req.method == "HEAD" else (200, {}, b"fine")
    result = fetch(site.url("/no-head"))
    assert result.outcome == Outcome.OK
    assert [s.method for s in site.seen] == ["HEAD", "GET"]


def test_404_is_broken(site):
    result = fetch(site.url("/gone"))
    assert (result.outcome, result.http_status, result.reason) == (Outcome.BROKEN, 404, "404")


def test_redirects_followed_and_bounded(site):
    site.routes["/old"] = redirect("/middle", 301)
    site.routes["/middle"] = redirect(site.url("/new"))
    site.routes["/new"] = page()
    result = fetch(site.url("/old"))
    assert result.outcome == Outcome.OK and result.final_url == site.url("/new")
    for n in range(10):
        site.routes[f"/loop{n}"] = redirect(f"/loop{n + 1}")
    result = fetch(site.url("/loop0"), max_redirects=3)
    assert result.outcome == Outcome.BROKEN and "more than 3 redirects" in result.reason
    assert "/loop4" not in site.paths()


def test_server_errors_are_failing_not_broken(site):
    site.routes["/busy"] = page(503)
    assert fetch(site.url("/busy")).outcome == Outcome.FAILING


def test_body_read_is_capped(site):
    site.routes["/huge"] = lambda req: (405, {}, b"") if req.method == "HEAD" else (
        200, {"Content-Type": "text/html"}, b"x" * 5_000_000 + b'<input type="password">')
    # The login form sits after the cap: never read, so never seen.
    assert fetch(site.url("/huge"), max_bytes=1024).outcome == Outcome.OK
    assert fetch(site.url("/huge"), max_bytes=6_000_000).outcome == Outcome.UNVERIFIED


def test_cookies_are_neither_kept_nor_sent(site):
    site.routes["/login-cookie"] = lambda req: (302, {"Location": "/after", "Set-Cookie": "sid=secret; Path=/"}, b"")
    site.routes["/after"] = page()
    assert fetch(site.url("/login-cookie")).outcome == Outcome.OK
    assert all("cookie" not in s.headers for s in site.seen)


def test_host_headers_are_sent_and_never_logged(site, caplog):
    site.routes["/wiki"] = lambda req: (200, {}, b"") if req.headers.get("authorization") == "Bearer s3cr3t" \
        else (401, {}, b"")
    caplog.set_level(logging.DEBUG)
    result = fetch(site.url("/wiki"), host_headers={"127.0.0.1": {"Authorization": "Bearer s3cr3t"}})
    assert result.outcome == Outcome.OK
    assert "s3cr3t" not in caplog.text
    assert fetch(site.url("/wiki")).outcome == Outcome.BROKEN


def test_login_page_is_unverified(site):
    site.routes["/private"] = redirect("/sso/login?next=/private")
    site.routes["/sso/login"] = page()
    result = fetch(site.url("/private"), login_urls=(site.url("/sso/"),))
    assert result.outcome == Outcome.UNVERIFIED and result.final_url.startswith(site.url("/sso/login"))


# -- the address guard ----------------------------------------------------------------------

def test_loopback_refused_unless_allowed(site):
    site.routes["/"] = page()
    result = fetch(site.url("/"), addresses=AddressPolicy())
    assert result.outcome == Outcome.BROKEN and "non-public address (127.0.0.1)" in result.reason
    assert site.seen == []
    result = fetch(site.url("/", host="localhost"), addresses=AddressPolicy())   # a name for loopback
    assert result.outcome == Outcome.BROKEN and site.seen == []


def test_redirect_to_127_0_0_1_refused(site):
    """An allowed public-looking host that redirects to loopback: the hop is refused, nothing fetched."""
    site.routes["/article"] = redirect(site.url("/admin"))
    site.routes["/admin"] = page()
    policy = AddressPolicy.from_list(["docs.example.test"], resolve=lambda host, port: ["127.0.0.1"])
    result = fetch(f"http://docs.example.test:{site.port}/article", addresses=policy)
    assert result.outcome == Outcome.BROKEN and "127.0.0.1" in result.reason
    assert site.paths() == ["/article"]          # the first hop only
    assert "/admin" not in site.paths()


def test_name_resolving_to_private_address_refused():
    tried = []

    def resolve(host, port):
        tried.append(host)
        return ["10.20.30.40"]

    result = fetch("https://wiki.corp.example.test/page", addresses=AddressPolicy.from_list([], resolve))
    assert tried == ["wiki.corp.example.test"]
    assert result.outcome == Outcome.BROKEN and "10.20.30.40" in result.reason


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[::1]:9/",
                                 "http://192.168.1.1/", "http://100.100.100.200/", "http://[::ffff:127.0.0.1]/",
                                 "http://0.0.0.0/"])
def test_internal_literals_refused(url):
    assert fetch(url, addresses=AddressPolicy()).outcome == Outcome.BROKEN


def test_allowed_cidr_admits_a_private_range():
    policy = AddressPolicy.from_list(["10.0.0.0/8"], resolve=lambda host, port: ["10.1.2.3"])
    assert policy.address_for("wiki.corp.example.test", 443) == "10.1.2.3"
