"""Evidence links are checked off the request path: on answer, when a review opens and daily
until launch; a link that breaks sends the item back, shows ⚠ and is audited."""
from __future__ import annotations

from datetime import timedelta

import shutil

import pytest
import yaml
from sqlmodel import select

from bot.db import unit_of_work
from bot.linkcheck.runner import run_due
from bot.services import answers, links
from bot.services.templates import load_templates, validate_directory
from models import AuditEvent, Item, ItemState, Launch, LinkCheck, LinkStatus, OutboxMessage
from tests.gate_support import answer, gate_at, items_of, open_launch, satisfy
from tests.conftest import ROOT
from tests.local_http import LocalSite, page


@pytest.fixture
def site():
    s = LocalSite().start()
    yield s
    s.stop()


@pytest.fixture
def lrt(rt):
    """The runtime with the tests' own 127.0.0.1 servers explicitly allowed."""
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"linkcheck_allow_hosts": ["127.0.0.1"]})
    return rt


def template_with(rt, tmp_path, **keys) -> None:
    """The product template with `keys` on its first link item (as an admin would write them)."""
    target = tmp_path / "checklists"
    shutil.copytree(ROOT / "checklists", target)
    data = yaml.safe_load((target / "product.yaml").read_text())
    next(i for i in data["gates"][0]["items"] if i.get("answer") == "link").update(keys)
    (target / "product.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    rt.ctx.templates = load_templates(target)


def link_item(rt, launch_id) -> Item:
    return next(i for i in items_of(rt, launch_id, 0) if i.answer_kind == "link")


def answer_link(rt, clock, item, url, actor=None):
    with unit_of_work(rt.ctx.engine) as session:
        answers.answer(session, item.id, {"value": url}, actor=actor or item.owner_id, now=clock(),
                       settings=rt.ctx.settings)


def checks(rt, **where) -> list[LinkCheck]:
    with unit_of_work(rt.ctx.engine) as session:
        rows = session.exec(select(LinkCheck).order_by(LinkCheck.id)).all()
    return [r for r in rows if all(getattr(r, k) == v for k, v in where.items())]


def get_item(rt, item_id) -> Item:
    with unit_of_work(rt.ctx.engine) as session:
        return session.get(Item, item_id)


def actions(rt, launch_id) -> list[str]:
    with unit_of_work(rt.ctx.engine) as session:
        return list(session.exec(select(AuditEvent.action).where(AuditEvent.launch_id == launch_id)
                                 .order_by(AuditEvent.id)))


def test_answer_is_checked_by_the_pass_then_breaks_and_sends_the_item_back(lrt, clock, site):
    site.routes["/brief"] = page(Last_Modified="Mon, 02 Aug 2027 07:00:00 GMT", ETag='"b1"')
    launch_id = open_launch(lrt, clock)
    item = link_item(lrt, launch_id)
    answer_link(lrt, clock, item, site.url("/brief"))
    assert site.seen == []                     # nothing fetched inside the answer's transaction
    (row,) = checks(lrt, item_id=item.id)
    assert row.status == LinkStatus.PENDING and row.next_check_at == clock()

    report = run_due(lrt.ctx, clock())
    assert report.checked == 1
    (row,) = checks(lrt, item_id=item.id)
    assert (row.status, row.http_status, row.final_url, row.etag) == ("ok", 200, site.url("/brief"), '"b1"')
    assert row.checked_at == clock() and row.last_modified.hour == 7
    assert row.next_check_at == clock() + timedelta(hours=24)   # daily until launch

    site.routes["/brief"] = page(404)
    clock.advance(hours=23)
    assert run_due(lrt.ctx, clock()).checked == 0           # not due yet
    clock.advance(hours=1)
    report = run_due(lrt.ctx, clock())
    assert (report.checked, report.broken, report.sent_back) == (1, 1, 1)
    after = get_item(lrt, item.id)
    assert after.state == ItemState.OPEN and "404 since today" in after.note
    assert {"link.broken", "item.link_broken"} <= set(actions(lrt, launch_id))
    with unit_of_work(lrt.ctx.engine) as session:
        told = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == item.owner_id,
                                                        OutboxMessage.kind == "gate_notice")).all()
        assert [m.payload["what"] for m in told] == ["link_broken"]
        assert "404" in told[0].payload["reason"]
        assert links.warnings(session, launch_id, clock()) == {item.id: [f"{site.url('/brief')} — 404 since today"]}
    (row,) = checks(lrt, item_id=item.id)
    assert row.next_check_at is None                       # not checked again until re-answered

    # Answered again with a working link: the old row goes, the new one is checked.
    site.routes["/brief-v2"] = page()
    answer_link(lrt, clock, get_item(lrt, item.id), site.url("/brief-v2"))
    run_due(lrt.ctx, clock())
    assert [(r.url, r.status) for r in checks(lrt, item_id=item.id)] == [(site.url("/brief-v2"), "ok")]
    assert get_item(lrt, item.id).state == ItemState.DONE


def test_weekday_in_reason(lrt, clock, site):
    site.routes["/gone"] = page(410)
    launch_id = open_launch(lrt, clock)
    item = link_item(lrt, launch_id)
    answer_link(lrt, clock, item, site.url("/gone"))
    run_due(lrt.ctx, clock())        # Monday
    clock.advance(days=1)
    with unit_of_work(lrt.ctx.engine) as session:
        assert links.warnings(session, launch_id, clock())[item.id] == [f"{site.url('/gone')} — 410 since Monday"]


def test_server_errors_break_only_after_three_checks_in_a_row(lrt, clock, site):
    site.routes["/flaky"] = page(503)
    launch_id = open_launch(lrt, clock)
    item = link_item(lrt, launch_id)
    answer_link(lrt, clock, item, site.url("/flaky"))
    for n in range(2):
        run_due(lrt.ctx, clock())
        assert checks(lrt)[0].status == LinkStatus.FAILING and get_item(lrt, item.id).state == ItemState.DONE
        clock.advance(minutes=30)
    run_due(lrt.ctx, clock())
    assert checks(lrt)[0].status == LinkStatus.BROKEN and get_item(lrt, item.id).state == ItemState.OPEN


def test_refused_address_is_broken_not_fetched(rt, clock, site):
    """Without 127.0.0.1 in LINKCHECK_ALLOW_HOSTS the bot never fetches its own loopback."""
    site.routes["/admin"] = page()
    launch_id = open_launch(rt, clock)
    item = link_item(rt, launch_id)
    answer_link(rt, clock, item, site.url("/admin"))
    run_due(rt.ctx, clock())
    (row,) = checks(rt)
    assert row.status == LinkStatus.BROKEN and "non-public address" in row.reason
    assert site.seen == []


def test_review_opening_rechecks_the_gates_links(lrt, clock, site):
    site.routes["/brief"] = page()
    launch_id = open_launch(lrt, clock)
    item = link_item(lrt, launch_id)
    answer_link(lrt, clock, item, site.url("/brief"))
    run_due(lrt.ctx, clock())
    clock.advance(hours=2)
    satisfy(lrt, clock, launch_id, 0)           # the rest of the gate: the review opens
    assert gate_at(lrt, launch_id, 0).status == "in_review"
    row = checks(lrt, item_id=item.id)[0]
    assert row.next_check_at == clock()


def test_stale_page_is_flagged_not_failed_and_owner_can_confirm(lrt, clock, site, tmp_path):
    site.routes["/kb"] = page(Last_Modified="Tue, 01 Jun 2027 09:00:00 GMT")
    template_with(lrt, tmp_path, updated=True)
    launch_id = open_launch(lrt, clock)
    item = link_item(lrt, launch_id)
    assert item.must_be_updated
    answer_link(lrt, clock, item, site.url("/kb"))
    run_due(lrt.ctx, clock())
    (row,) = checks(lrt)
    assert row.status == LinkStatus.STALE
    assert get_item(lrt, item.id).state == ItemState.DONE      # flagged, not sent back
    with unit_of_work(lrt.ctx.engine) as session:
        (warning,) = links.warnings(session, launch_id, clock())[item.id]
        assert "last modified 1 Jun 2027" in warning and "possibly stale" in warning
        assert links.confirm_stale(session, item.id, "Only the title changed; content is current",
                                   actor=item.owner_id, now=clock()) == 1
    with unit_of_work(lrt.ctx.engine) as session:
        assert links.warnings(session, launch_id, clock()) == {}
    assert "link.stale_confirmed" in actions(lrt, launch_id)


def test_the_date_a_page_gives_itself_decides_staleness(lrt, clock, site, tmp_path):
    """`updated_date: {meta: …}`: the article's own date counts, not a Last-Modified that changes on every request."""
    article = (b'<html><head><title>Payouts</title><meta content="2027-06-01T09:00:00Z" '
               b'property="article:modified_time"></head><body>Instant payouts...</body></html>')
    site.routes["/kb"] = page(body=article, Last_Modified="Mon, 02 Aug 2027 07:59:00 GMT")  # "fresh" header
    template_with(lrt, tmp_path, updated_date={"meta": "article:modified_time"})
    launch_id = open_launch(lrt, clock)
    item = link_item(lrt, launch_id)
    assert item.must_be_updated and item.updated_date == "meta:article:modified_time"
    answer_link(lrt, clock, item, site.url("/kb"))
    run_due(lrt.ctx, clock())
    (row,) = checks(lrt)
    assert site.paths("GET") == ["/kb"] and site.paths("HEAD") == []   # the body is needed: GET, read a prefix
    assert row.status == LinkStatus.STALE and row.page_date.isoformat() == "2027-06-01T09:00:00+00:00"
    assert get_item(lrt, item.id).state == ItemState.DONE                # flagged, not sent back
    with unit_of_work(lrt.ctx.engine) as session:
        (warning,) = links.warnings(session, launch_id, clock())[item.id]
        assert "the page says updated 1 Jun 2027" in warning and "possibly stale" in warning
        links.confirm_stale(session, item.id, "Rewritten 1 Aug; the CMS keeps the first publish date",
                            actor=item.owner_id, now=clock())
    with unit_of_work(lrt.ctx.engine) as session:
        assert links.warnings(session, launch_id, clock()) == {}
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "link.stale_confirmed")).all()
    assert event.actor == item.owner_id and event.note.startswith("Rewritten 1 Aug")


def test_a_json_date_after_the_opening_is_current_whatever_last_modified_says(lrt, clock, site, tmp_path):
    api = b'{"article": {"id": 360, "title": "Instant payouts", "updated_at": "2027-08-02T10:05:00+02:00", "body": "'
    site.routes["/api/articles/360.json"] = page(body=api + b"x" * 200_000,   # cut off at LINKCHECK_MAX_BYTES
                                                 Last_Modified="Tue, 01 Jun 2027 09:00:00 GMT")
    template_with(lrt, tmp_path, updated_date={"json": "updated_at"})
    launch_id = open_launch(lrt, clock)
    item = link_item(lrt, launch_id)
    answer_link(lrt, clock, item, site.url("/api/articles/360.json"))
    run_due(lrt.ctx, clock())
    (row,) = checks(lrt)
    assert row.status == LinkStatus.OK and row.page_date.isoformat() == "2027-08-02T08:05:00+00:00"
    # a page without the date falls back to Last-Modified
    site.routes["/api/articles/360.json"] = page(body=b'{"article": {"id": 360}}',
                                                 Last_Modified="Tue, 01 Jun 2027 09:00:00 GMT")
    answer_link(lrt, clock, item, site.url("/api/articles/360.json") + "?v=2")
    run_due(lrt.ctx, clock())
    (row,) = checks(lrt)
    assert row.status == LinkStatus.STALE and row.page_date is None
    with unit_of_work(lrt.ctx.engine) as session:
        assert "last modified 1 Jun 2027" in links.warnings(session, launch_id, clock())[item.id][0]


def test_url_pattern_checks_every_market_and_one_broken_market_sends_back(lrt, clock, site, tmp_path):
    site.routes["/brief"] = page()
    site.routes["/fr/help/fr"] = page()
    site.routes["/de/help/de"] = page(404)
    template_with(lrt, tmp_path, url_pattern=site.url("/{lang}/help/{market}"))
    launch_id = open_launch(lrt, clock, markets=("FR", "DE"))
    item = link_item(lrt, launch_id)
    answer_link(lrt, clock, item, site.url("/brief"))
    rows = checks(lrt, item_id=item.id)
    assert sorted((r.market or "", r.url) for r in rows) == [
        ("", site.url("/brief")), ("DE", site.url("/de/help/de")), ("FR", site.url("/fr/help/fr"))]
    report = run_due(lrt.ctx, clock())
    assert (report.checked, report.broken, report.sent_back) == (3, 1, 1)
    assert get_item(lrt, item.id).state == ItemState.OPEN
    with unit_of_work(lrt.ctx.engine) as session:
        assert links.warnings(session, launch_id, clock()) == {
            item.id: [f"DE: {site.url('/de/help/de')} — 404 since today"]}


def test_checks_stop_after_launch_day(lrt, clock, site):
    site.routes["/brief"] = page()
    launch_id = open_launch(lrt, clock)
    item = link_item(lrt, launch_id)
    answer_link(lrt, clock, item, site.url("/brief"))
    with unit_of_work(lrt.ctx.engine) as session:
        launch = session.get(Launch, launch_id)
        clock.set(clock().replace(year=launch.launch_date.year, month=launch.launch_date.month,
                                  day=launch.launch_date.day) + timedelta(days=1))
    run_due(lrt.ctx, clock())
    assert checks(lrt)[0].next_check_at is None


def offline(host, port):
    """Tests never resolve real names: anything but the literal local servers is unreachable."""
    raise LookupError(f"DNS lookup failed for {host}")


def test_warning_shows_on_the_status_card_and_in_the_review(standin, bot, clock, site):
    from tests.flows import deliver, open_launch_via_slack
    from tests.gate_support import blocks_text, review_message

    rt = bot.rt
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"linkcheck_allow_hosts": ["127.0.0.1"]})
    site.routes["/kb"] = page(Last_Modified="Tue, 01 Jun 2027 09:00:00 GMT")
    launch = open_launch_via_slack(standin, bot)
    item = link_item(rt, launch.id)
    with unit_of_work(rt.ctx.engine) as session:
        session.get(Item, item.id).must_be_updated = True
    answer_link(rt, clock, item, site.url("/kb"))
    satisfy(rt, clock, launch.id, 0)
    run_due(rt.ctx, clock(), resolve=offline)
    deliver(bot)
    assert checks(rt, item_id=item.id)[0].status == LinkStatus.STALE
    card = next(m for m in standin.messages(launch.channel_id) if "% done" in m.get("text", ""))
    assert "Evidence links" in blocks_text(card) and "possibly stale" in blocks_text(card)
    review = blocks_text(review_message(standin, "ULEAD"))
    assert "⚠️" in review and "possibly stale" in review


def test_template_keys_are_validated(tmp_path):
    target = tmp_path / "checklists"
    shutil.copytree(ROOT / "checklists", target)
    data = yaml.safe_load((target / "product.yaml").read_text())
    item = data["gates"][0]["items"][0]
    item.update(url_pattern="https://help.example.com/{country}/a", updated="sometimes")
    second = data["gates"][0]["items"][1]
    second.update(updated_date={"meta": "article:modified_time", "json": "updated_at"})
    (target / "product.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    faults = [str(f) for f in validate_directory(target)]
    assert any(f"item {item['id']}: url_pattern" in f and "{market} or {lang}" in f for f in faults), faults
    assert any(f"item {item['id']}: updated" in f for f in faults), faults
    assert any(f"item {second['id']}: updated_date" in f and "exactly one of meta" in f for f in faults), faults


def test_two_replicas_never_check_the_same_link_twice(lrt, clock, site):
    import threading

    launch_id = open_launch(lrt, clock)
    for n, item in enumerate(i for i in items_of(lrt, launch_id) if i.answer_kind == "link"):
        site.routes[f"/p{n}"] = page()
        answer_link(lrt, clock, item, site.url(f"/p{n}"))
    due = len(checks(lrt))
    assert due >= 3
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(run_due(lrt.ctx, clock(), limit=1)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.checked for r in reports) == due
    assert sorted(site.paths("HEAD")) == sorted(f"/p{n}" for n in range(due))
    assert all(r.status == "ok" for r in checks(lrt))


def test_owner_confirms_a_stale_page_from_slack(standin, bot, clock, site, tmp_path):
    from tests.flows import deliver, open_launch_via_slack
    from tests.gate_support import blocks_text

    rt = bot.rt
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"linkcheck_allow_hosts": ["127.0.0.1"]})
    template_with(rt, tmp_path, updated=True)
    site.routes["/kb"] = page(Last_Modified="Tue, 01 Jun 2027 09:00:00 GMT")
    launch = open_launch_via_slack(standin, bot)
    item = link_item(rt, launch.id)
    answer_link(rt, clock, item, site.url("/kb"))
    run_due(rt.ctx, clock(), resolve=offline)
    deliver(bot)
    card = next(m for m in standin.messages(launch.channel_id) if "% done" in m.get("text", ""))
    assert f"/launch current {launch.key} ITEM-KEY WHY" in blocks_text(card)
    assert f"`{item.item_key}`" in blocks_text(card)
    stranger = standin.send_slash_command(bot.url, text=f"current {launch.key} {item.item_key} fine", user_id="UWFM")
    assert "Only the item's owner" in stranger.json()["text"]
    usage = standin.send_slash_command(bot.url, text=f"current {launch.key}", user_id=item.owner_id)
    assert "Use `/launch current" in usage.json()["text"]
    ok = standin.send_slash_command(bot.url, text=f"current {launch.key} {item.item_key} Only the footer changed",
                                    user_id=item.owner_id)
    assert "1 page(s)" in ok.json()["text"]
    deliver(bot)
    card = next(m for m in standin.messages(launch.channel_id) if "% done" in m.get("text", ""))
    assert "Evidence links" not in blocks_text(card)
    with unit_of_work(rt.ctx.engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "link.stale_confirmed")).all()
    assert event.actor == item.owner_id and event.note == "Only the footer changed"


def test_a_pass_costs_the_same_statements_for_ten_links_or_thirty(lrt, clock, site):
    """Results are stored per batch in one transaction: no statements per link, launch or item."""
    from sqlalchemy import event

    site.routes.update({f"/p{n}": page() for n in range(40)})
    answered = [0]

    def answer_launches(count: int) -> None:
        for _ in range(count):
            launch_id = open_launch(lrt, clock)
            for item in (i for i in items_of(lrt, launch_id) if i.answer_kind == "link"):
                answer_link(lrt, clock, item, site.url(f"/p{answered[0]}"))
                answered[0] += 1
        run_due(lrt.ctx, clock(), limit=100)   # checked once on answer
        clock.advance(seconds=25 * 3600)       # the daily re-check is due

    def measured_pass() -> tuple[int, int]:
        seen = []
        count = lambda *_args: seen.append(1)   # noqa: E731
        event.listen(lrt.ctx.engine, "before_cursor_execute", count)
        try:
            report = run_due(lrt.ctx, clock(), limit=100)
        finally:
            event.remove(lrt.ctx.engine, "before_cursor_execute", count)
        assert report.statuses == {"ok": report.checked}
        return report.checked, len(seen)

    answer_launches(1)
    few, few_statements = measured_pass()
    answer_launches(2)
    many, many_statements = measured_pass()
    assert few >= 3 and many == 3 * few
    assert many_statements == few_statements
