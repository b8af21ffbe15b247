"""How fast does the bot ack Slack, next to a bare Bolt app on the same server stack?

Seeds LAUNCHES open launches like bench/tick.py (~31 items each), then serves two apps, each
in its own process, exactly as `launchgate serve` serves HTTP (waitress, 8 threads, Bolt's
WSGI adapter, the same signing secret):
  * the bot (bot.web.make_wsgi_app over bot.slack_app.create_app; no scheduler runs, so
    nothing but the requests loads it — bench/tick.py measures the tick), and
  * a bare Bolt app whose listeners only ack.
The Slack stand-in signs and sends what Slack sends — `/launch help`, `/launch list`, a Done
click on an open item (its owner, a different item each time) and the New launch submission
— first one after another, then from 8 concurrent clients, and times each request until its
ack arrived. The bot acks `/launch list` at once and posts the page to the response_url
afterwards (Slack's "ack, then do the slow work"), so for it a second row, "answer", times
each request until the page arrived at the stand-in (the bare app's answer is its ack); a
client waits for the answer before its next request, as a person would. A Done click is acked
once the click is saved and applied just after (bot/listeners/clicks.py): its "saved" row times
each click until its change was committed (the bot server prints each as it commits), and the
client waits for that before its next click, as a person would. Prints p50/p99 per
app and the bot/bare ratio, each server's CPU per request (user + system, from /proc), then the
bot server's RSS before and after 40 `/launch list`.

Usage: .venv/bin/python bench/ack.py [--launches N] [--requests R] [DATABASE_URL]
       (default 1,000 launches on a fresh SQLite file; a PostgreSQL URL is wiped first)
Not a test: figures to watch, never an assertion.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import httpx  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import make_engine, read_only  # noqa: E402
from models import Gate, Item, ItemState  # noqa: E402
from tests.flows import launch_form  # noqa: E402
from bot.sandbox.workspace.signing import signed_headers  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402

import tick  # noqa: E402  (bench/tick.py: the seed)

TOKEN, SECRET = "xoxb-bench", "bench-signing-secret"
THREADS = 8          # waitress threads, as `launchgate serve`
CLIENTS = 8
PM, LEAD = tick.person("product_manager", 0), tick.person("readiness_lead", 0)


def settings_for(url: str, api_url: str):
    return load_settings(database_url=url, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                         slack_app_token=None, slack_api_url=api_url, _env_file=None)


# -- the two servers (each in its own process) ------------------------------------------------

def serve(kind: str, url: str, api_url: str) -> None:
    from waitress import create_server

    if kind == "bot":
        from bot.runtime import build_runtime
        from bot.slack_app import create_app
        from bot.web import make_wsgi_app

        from bot.cli import _collector_paused  # as `launchgate serve` starts: start-up objects frozen

        with _collector_paused():
            rt = build_runtime(settings_for(url, api_url))
            wsgi = make_wsgi_app(create_app(rt), rt.ctx.engine, ctx=rt.ctx)
        report_applied_clicks()
    else:
        from slack_bolt import App
        from slack_bolt.adapter.wsgi import SlackRequestHandler
        from slack_sdk import WebClient

        app = App(signing_secret=SECRET, client=WebClient(token=TOKEN, base_url=api_url),
                  token_verification_enabled=False)
        app.command("/launch")(lambda ack: ack(text="ok"))
        app.action("item.done")(lambda ack: ack())
        app.view("launch_new")(lambda ack: ack())
        wsgi = SlackRequestHandler(app, path="/slack/events")
    server = create_server(wsgi, host="127.0.0.1", port=0, threads=THREADS)
    print(server.effective_port, flush=True)
    server.run()


def report_applied_clicks() -> None:
    """The bot acks a Done click once the click is saved and applies it just after: print
    "applied ITEM EPOCH" as each change commits, so the bench can time the click until saved."""
    from bot.listeners import clicks as taken
    from bot.services import clicks

    items: dict[int, int] = {}
    record, apply = clicks.record, taken.apply

    def recorded(session, action, actor, item_id, **kw):
        click_id = record(session, action, actor, item_id, **kw)
        items[click_id] = item_id
        return click_id

    def applied(rt, click_id, told):
        apply(rt, click_id, told)
        print(f"applied {items.pop(click_id, 0)} {time.time()}", flush=True)

    clicks.record, taken.apply = recorded, applied


class Server:
    def __init__(self, kind: str, url: str, api_url: str):
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, url, api_url],
                                     stdout=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"
        self.applied: dict[int, float] = {}  # item id -> when its Done click was applied (epoch)
        self.news = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("applied "):
                _, item_id, at = line.split()
                with self.news:
                    self.applied[int(item_id)] = float(at)
                    self.news.notify_all()

    def saved_after(self, item_id: int, sent: float, timeout: float = 30) -> float | None:
        """Seconds from sending a Done click on `item_id` until its change was applied (None: never)."""
        with self.news:
            if not self.news.wait_for(lambda: item_id in self.applied, timeout):
                return None
            return self.applied[item_id] - sent

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


# -- the client side --------------------------------------------------------------------------

class TimedStandIn(SlackStandIn):
    """Records how long each request to the bot took until its answer (status, seconds)."""

    _local = threading.local()

    def signed_post(self, bot_url, body, content_type, secret=None, timestamp=None):
        """As Slack's, over one kept-alive connection per client thread: building a new HTTP
        client per request (the stand-in's default) costs more CPU than the bare app's answer."""
        client = getattr(self._local, "http", None)
        if client is None:
            client = self._local.http = httpx.Client(timeout=self.http_timeout)
        headers = signed_headers(self.signing_secret, body, content_type, timestamp)
        return client.post(bot_url.rstrip("/") + "/slack/events", content=body.encode(), headers=headers)

    def _post(self, bot_url, body, content_type):
        self._local.started = time.time()
        resp, elapsed = super()._post(bot_url, body, content_type)
        self._local.last = (resp.status_code, elapsed)
        return resp, elapsed

    def answered_after(self, resp) -> float | None:
        """Seconds from sending a slash command until its answer was shown: the ack when it has a
        body, else the first post to its response_url (None: no answer within 30 s)."""
        if resp.content.strip():
            return self._local.last[1]
        try:
            self.reply(resp, timeout=30)
        except TimeoutError:
            return None
        url_id = resp.response_url.rsplit("/", 1)[-1]
        with self.state.lock:
            at = next(r.at for r in self.state.responses if r.url_id == url_id)
        return at - self._local.started


class Requests:
    """One request of each kind, each call a fresh one (Done: the next open item)."""

    def __init__(self, standin: TimedStandIn, done_items: list[tuple[int, str]]):
        self.standin = standin
        self.items = iter(done_items)
        self.lock = threading.Lock()
        self.opened = 0
        self.launch_date = date.today() + timedelta(weeks=26)
        self.bare_url = ""
        self.answers: list[float] = []
        self.bot: Server | None = None
        self.clicked = threading.local()  # the client thread's last Done click: (item id, when sent)

    def help(self, url):
        return self.standin.send_slash_command(url, text="help", user_id=PM)

    def list(self, url):
        return self.standin.send_slash_command(url, text="list", user_id=PM)

    def done(self, url):
        with self.lock:
            item_id, owner = next(self.items)
        self.clicked.last = (item_id, time.time())
        return self.standin.send_block_action(url, owner, "item.done", str(item_id))

    def open_launch(self, url):
        with self.lock:
            self.opened += 1
            n = self.opened
        return self.standin.send_view_submission(url, PM, "launch_new", launch_form(
            name=f"Ack bench {n}", markets=("GB",), launch_date=self.launch_date, lead=LEAD))

    def timed(self, kind: str, url: str) -> tuple[int, float, float | None]:
        """(HTTP status, seconds until the ack, seconds until the answer was shown — None if never)."""
        resp = getattr(self, kind)(url)
        status, acked = self.standin._local.last
        answered = self.standin.answered_after(resp) if kind in ANSWERED_LATER else acked
        if kind in SAVED_LATER and self.bot is not None and url == self.bot.url:
            answered = self.bot.saved_after(*self.clicked.last)  # the client waits, as a person would
        if answered is not None and kind == "list" and url != self.bare_url:
            shown = resp.json() if resp.content.strip() else self.standin.reply(resp)
            if "launch(es)" not in json.dumps(shown):
                answered = None  # not the page
        return status, acked, answered


KINDS = {"help": "/launch help", "list": "/launch list", "done": "Done click", "open_launch": "New launch submit"}
ANSWERED_LATER = {"list"}  # kinds whose answer may come through the response_url after the ack
SAVED_LATER = {"done"}     # kinds the bot acks once saved and applies just after (bot/listeners/clicks.py)


CLIENT_POOL = ThreadPoolExecutor(CLIENTS)


def measure(requests: Requests, kind: str, url: str, count: int, clients: int) -> tuple[list[float], int]:
    """Ack latencies (s) of `count` requests from `clients` concurrent clients, and non-200 answers or
    answers that never came. The answer latencies are in `requests.answers`."""
    def one(_):
        return requests.timed(kind, url)

    if clients == 1:
        results = [one(n) for n in range(count)]
    else:  # the same client threads every time: each keeps its connection to each app
        results = list(CLIENT_POOL.map(one, range(count)))
    requests.answers = [a for _, _, a in results if a is not None]
    return [s for _, s, _ in results], sum(1 for status, _, a in results if status != 200 or a is None)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def open_items(url: str, count: int) -> list[tuple[int, str]]:
    """Open confirm items of the first gate, owner set, spread over many launches."""
    engine = make_engine(url)
    with read_only(engine) as session:
        rows = session.exec(select(Item.id, Item.owner_id).where(
            Item.state == ItemState.OPEN, Item.answer_kind == "confirm", Item.owner_id.is_not(None),
            Item.gate_id.in_(select(func.min(Gate.id)).group_by(Gate.launch_id))).order_by(Item.launch_id, Item.id)
        ).all()
    engine.dispose()
    rng = random.Random(11)
    rng.shuffle(rows)
    if len(rows) < count:
        raise SystemExit(f"only {len(rows)} open confirm items; seed more launches")
    return [(int(i), str(o)) for i, o in rows[:count]]


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("--launches", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=40, help="per kind and mode (concurrent: rounded to 8s)")
    parser.add_argument("--no-seed", action="store_true", help="reuse the database as it is (seeded before)")
    args = parser.parse_args()
    url = args.url or os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    started = time.perf_counter()
    if not args.no_seed:
        tick.fresh_database(url)
        seeder = tick.build_runtime(tick.settings_for(url))
        tick.seed(seeder, args.launches)
        seeder.ctx.engine.dispose()
    seeded = time.perf_counter() - started
    concurrent = max(CLIENTS, args.requests // CLIENTS * CLIENTS)
    warm = 3
    items = open_items(url, 2 * (warm + args.requests + concurrent))  # both apps click

    standin = TimedStandIn(token=TOKEN, signing_secret=SECRET, socket_mode=False)
    standin.start()
    standin.trigger_ttl = 3600  # a trigger is used at once here; under load don't let the clock decide
    for role, size in tick.POOL.items():
        for k in range(size):
            standin.add_user(tick.person(role, k), tz=tick.ZONES[k % len(tick.ZONES)])
    bot, bare = Server("bot", url, standin.api_url), Server("bare", url, standin.api_url)
    requests = Requests(standin, items)
    requests.bare_url, requests.bot = bare.url, bot
    print(f"database      {url.split(':')[0].split('+')[0]}; {args.launches} launches seeded in {seeded:.0f}s; "
          f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    try:
        for server in (bare, bot):  # first requests load templates, Bolt's listeners, the DB pool
            for kind in KINDS:
                measure(requests, kind, server.url, warm, 1)
            measure(requests, "help", server.url, 4 * CLIENTS, CLIENTS)  # every client thread connects
        before = bot.rss_mb()
        _, failed = measure(requests, "list", bot.url, 40, 1)
        after = bot.rss_mb()
        print(f"bot RSS       {before:.0f} MB before 40 `/launch list`, {after:.0f} MB after "
              f"({after - before:+.0f} MB){f', {failed} failed' if failed else ''}")
        print(f"{'':<26}{'mode':<12}{'bare p50':>9}{'p99':>8}{'bot p50':>9}{'p99':>8}{'p50 ×':>7}{'p99 ×':>7}"
              f"{'errors':>8}{'CPU/req bare':>14}{'bot':>7}")
        for kind, label in KINDS.items():
            for mode, count, clients in (("sequential", args.requests, 1), (f"{CLIENTS} clients", concurrent,
                                                                             CLIENTS)):
                cpu = bare.cpu_s()
                base, base_errors = measure(requests, kind, bare.url, count, clients)
                base_cpu = (bare.cpu_s() - cpu) / count
                base_answers = requests.answers
                cpu = bot.cpu_s()
                ours, errors = measure(requests, kind, bot.url, count, clients)
                our_cpu = (bot.cpu_s() - cpu) / count  # the answer's (or the change's) work included
                rows = [(label, base, ours)]
                if kind in ANSWERED_LATER:
                    rows.append((label + ", answer", base_answers, requests.answers))
                if kind in SAVED_LATER:
                    rows.append((label + ", saved", base_answers, requests.answers))
                for name, b, o in rows:
                    b50, b99, o50, o99 = pct(b, .5), pct(b, .99), pct(o, .5), pct(o, .99)
                    print(f"{name:<26}{mode:<12}{b50 * 1000:>7.0f}ms{b99 * 1000:>6.0f}ms{o50 * 1000:>7.0f}ms"
                          f"{o99 * 1000:>6.0f}ms{o50 / b50:>7.1f}{o99 / b99:>7.1f}{errors + base_errors:>8}"
                          + (f"{base_cpu * 1000:>12.1f}ms{our_cpu * 1000:>5.1f}ms" if name == label else ""))
        late = [p for p in standin.bot_response_errors if "answered after" in p or "HTTP" in p]
        print(f"Slack-visible problems (late or non-200 answers): {len(late)}"
              + (f", e.g. {late[0]}" if late else ""))
    finally:
        bot.stop()
        bare.stop()
        standin.stop()


if __name__ == "__main__":
    main()
