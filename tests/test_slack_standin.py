"""The Slack stand-in itself: it must refuse what Slack refuses, sign like Slack,
and fail on demand. Self-contained: no bot, no database."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, HeaderBlock, SectionBlock
from slack_sdk.signature import SignatureVerifier

from tests.slack_standin import SlackStandIn, mentions_broadcast, spec
from tests.slack_standin.payloads import schema_problems

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    with SlackStandIn(token=TOKEN, signing_secret=SECRET) as standin:
        yield standin


@pytest.fixture
def slack(server):
    server.reset()
    for user_id, tz in {"UPM": "Europe/Paris", "UWFM": "America/New_York", "ULEAD": "Europe/London"}.items():
        server.add_user(user_id, name=user_id.lower(), tz=tz)
    yield server
    # Every error the stand-in chose must be one Slack documents for that method.
    for call in server.calls:
        if not call.ok and not call.injected:
            assert call.error in spec.documented_errors(call.method), (call.method, call.error)


@pytest.fixture
def client(slack):
    return WebClient(base_url=slack.api_url, token=TOKEN)


def api(slack, method, *, token=TOKEN, json_body=None, **form):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if json_body is not None:
        return httpx.post(slack.api_url + method, json=json_body, headers=headers)
    return httpx.post(slack.api_url + method, data=form, headers=headers)


def section(text):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


class Capture:
    """A fake app endpoint that records exactly what the stand-in sends."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                capture.requests.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture(scope="module")
def capture():
    cap = Capture()
    yield cap
    cap.httpd.shutdown()
    cap.httpd.server_close()


@pytest.fixture(scope="module")
def bolt(server):
    """A real slack_bolt app behind waitress, talking to the stand-in."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from waitress import create_server

    app = App(token=TOKEN, signing_secret=SECRET, token_verification_enabled=False,
              client=WebClient(base_url=server.api_url, token=TOKEN))
    seen: list = []
    modal = {"type": "modal", "callback_id": "demo", "title": {"type": "plain_text", "text": "Demo"},
             "submit": {"type": "plain_text", "text": "Save"}, "private_metadata": "meta",
             "blocks": [{"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
                         "element": {"type": "plain_text_input", "action_id": "name"}}]}

    @app.command("/demo")
    def demo(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.command("/echo")
    def echo(ack, body):
        ack(text=f"you said {body['text']}")

    @app.view("demo")
    def submitted(ack, view):
        seen.append(view)
        name = view["state"]["values"]["name"]["name"]["value"]
        if name == "x":
            ack(response_action="errors", errors={"name": "too short"})
        elif name == "bogus":
            ack(response_action="errors", errors={"nope": "no such block"})
        else:
            ack()

    @app.action("approve")
    def approve(ack, body, respond):
        ack()
        seen.append(body)
        respond(replace_original=True, text="Approved", blocks=[section("Approved by <@%s>" % body["user"]["id"])])

    @app.event("app_home_opened")
    def home(event, client):
        seen.append(event)
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [section("Home")]})

    wsgi = SlackRequestHandler(app, path="/slack/events")
    httpd = create_server(wsgi, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=httpd.run, daemon=True)
    thread.start()
    yield type("Bolt", (), {"url": f"http://127.0.0.1:{httpd.effective_port}", "seen": seen})
    httpd.close()
    thread.join(timeout=5)


# -- signing ----------------------------------------------------------------------------------

def test_requests_to_the_app_are_signed_like_slack(slack, capture):
    capture.requests.clear()
    slack.send_slash_command(capture.url, command="/launch", text="list", user_id="UPM", channel_id="C0GENERAL")
    slack.send_event(capture.url, {"type": "app_home_opened", "user": "UPM", "tab": "home"})
    assert len(capture.requests) == 2
    verifier = SignatureVerifier(SECRET)
    for headers, body in capture.requests:
        ts = headers["X-Slack-Request-Timestamp"]
        expected = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body.decode()}".encode(), hashlib.sha256).hexdigest()
        assert headers["X-Slack-Signature"] == expected
        assert abs(int(ts) - time.time()) < 10
        assert verifier.is_valid_request(body, headers)
        assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    (cmd_headers, cmd_body), (event_headers, event_body) = capture.requests
    assert cmd_headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(cmd_body.decode(), keep_blank_values=True).items()}
    assert {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name", "command",
            "text", "api_app_id", "response_url", "trigger_id"} <= set(form)
    assert form["response_url"].startswith(slack.base_url + "response/")
    assert event_headers["Content-Type"] == "application/json"
    envelope = json.loads(event_body)
    assert schema_problems(envelope, spec.event_wrapper_schema()) == []
    assert envelope["type"] == "event_callback" and envelope["event"]["event_ts"]


def test_forged_or_stale_signatures_are_possible_for_tests(slack, bolt):
    body = "command=%2Fecho&text=hi&user_id=UPM&channel_id=C1&trigger_id=1.2.3"
    ok = slack.signed_post(bolt.url, body, "application/x-www-form-urlencoded")
    forged = slack.signed_post(bolt.url, body, "application/x-www-form-urlencoded", secret="nope")
    stale = slack.signed_post(bolt.url, body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600)
    assert ok.status_code == 200 and forged.status_code == 401 and stale.status_code == 401


# -- a real Bolt app round trip ---------------------------------------------------------------

def test_bolt_app_opens_modal_and_submission_closes_it(slack, bolt):
    bolt.seen.clear()
    resp = slack.send_slash_command(bolt.url, command="/demo", user_id="UPM")
    assert resp.status_code == 200
    (view,) = slack.wait_for(lambda: slack.views("UPM"))  # Bolt opens the modal after acking
    (opened,) = slack.ok_calls("views.open")
    assert view["id"] == opened.response["view"]["id"] and view["private_metadata"] == "meta"
    values = {"name": {"name": {"type": "plain_text_input", "value": "x"}}}
    resp = slack.send_view_submission(bolt.url, "UPM", "demo", values)
    assert resp.json() == {"response_action": "errors", "errors": {"name": "too short"}}
    assert bolt.seen[-1]["id"] == view["id"] and bolt.seen[-1]["private_metadata"] == "meta"
    assert slack.views("UPM")  # errors keep the modal open
    values["name"]["name"]["value"] = "Ada"
    slack.send_view_submission(bolt.url, "UPM", "demo", values)
    assert slack.views("UPM") == []
    assert slack.bot_response_errors == []


def test_errors_for_blocks_that_are_not_inputs_are_reported(slack, bolt):
    slack.send_slash_command(bolt.url, command="/demo", user_id="UPM")
    slack.wait_for(lambda: slack.views("UPM"))  # Bolt opens the modal after acking
    slack.send_view_submission(bolt.url, "UPM", "demo", {"name": {"name": {"type": "plain_text_input",
                                                                            "value": "bogus"}}})
    assert any("not inputs" in e for e in slack.bot_response_errors)


def test_slash_command_ack_is_shown_as_ephemeral(slack, bolt):
    slack.send_slash_command(bolt.url, command="/echo", text="hello", user_id="UPM", channel_id="C0GENERAL")
    (shown,) = slack.ephemerals(user="UPM")
    assert shown["text"] == "you said hello" and shown["source"] == "ack" and shown["channel"] == "C0GENERAL"


def test_click_sends_the_real_button_and_respond_replaces_the_message(slack, bolt, client):
    channel = slack.add_channel(name="team", members=["UPM"])
    blocks = [SectionBlock(text="Ship it?"),
              ActionsBlock(block_id="decide", elements=[ButtonElement(text="Approve", action_id="approve", value="7"),
                                                        ButtonElement(text="Reject", action_id="reject", value="7")])]
    client.chat_postMessage(channel=channel, text="Ship it?", blocks=blocks)
    (message,) = slack.messages(channel)
    bolt.seen.clear()
    assert slack.click(bolt.url, "UPM", message, "approve").status_code == 200
    payload = bolt.seen[-1]
    (action,) = payload["actions"]
    assert action["action_id"] == "approve" and action["value"] == "7" and action["block_id"] == "decide"
    assert payload["container"] == {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                                    "is_ephemeral": False}
    assert payload["message"]["ts"] == message["ts"] and payload["channel"]["id"] == channel
    (updated,) = slack.messages(channel)
    assert updated["ts"] == message["ts"] and updated["text"] == "Approved" and "edited" in updated
    assert slack.responses[-1].ok and slack.responses[-1]["replace_original"] is True
    with pytest.raises(LookupError):
        slack.click(bolt.url, "UPM", updated, "approve")  # the button is gone now


def test_app_home_opened_reaches_bolt_and_publishes(slack, bolt):
    bolt.seen.clear()
    slack.open_app_home(bolt.url, "UWFM")
    home = slack.wait_for(lambda: slack.home_view("UWFM"))
    event = bolt.seen[-1]
    assert event["type"] == "app_home_opened" and event["tab"] == "home"
    assert event["channel"] == slack.dm_channel_for("UWFM")
    assert home["blocks"][0]["text"]["text"] == "Home"


# -- authentication ---------------------------------------------------------------------------

def test_requests_need_the_configured_token(slack):
    channel = slack.add_channel(name="team")
    assert api(slack, "chat.postMessage", token=None, channel=channel, text="x").json() == \
        {"ok": False, "error": "not_authed"}
    resp = api(slack, "chat.postMessage", token="xoxb-wrong", channel=channel, text="x")
    assert resp.status_code == 200 and resp.json()["error"] == "invalid_auth"
    assert httpx.post(slack.api_url + "auth.test", data={"token": TOKEN}).json()["user_id"] == SlackStandIn.BOT_USER
    # In a JSON body Slack only reads the Authorization header.
    assert httpx.post(slack.api_url + "auth.test", json={"token": TOKEN}).json()["error"] == "not_authed"
    assert slack.messages(channel) == []
    assert [c.ok for c in slack.calls_to("chat.postMessage")] == [False, False]


def test_unknown_method_is_404_and_missing_arguments_are_refused(slack):
    resp = api(slack, "chat.postMesage", channel="C1", text="x")
    assert resp.status_code == 404 and resp.json()["error"] == "unknown_method"
    assert api(slack, "chat.postMessage", text="x").json()["error"] == "channel_not_found"
    assert api(slack, "views.open", view="{}").json()["error"] == "invalid_trigger_id"
    assert api(slack, "usergroups.users.list").json()["error"] == "invalid_arguments"
    assert api(slack, "conversations.kick", channel="C1", user="UPM").json()["error"] == "not_implemented_in_standin"


# -- Block Kit --------------------------------------------------------------------------------

BAD_BLOCKS = {
    "51 blocks": [section(f"b{i}") for i in range(51)],
    "section over 3000": [section("x" * 3001)],
    "unknown block type": [{"type": "carousel_of_doom"}],
    "button without text": [{"type": "actions", "elements": [{"type": "button", "action_id": "a"}]}],
    "button text over 75": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "x" * 76}}]}],
    "button value over 2000": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "a", "value": "v" * 2001, "text": {"type": "plain_text", "text": "b"}}]}],
    "mrkdwn header": [{"type": "header", "text": {"type": "mrkdwn", "text": "*hi*"}}],
    "header over 150": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
    "11 fields": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
    "field over 2000": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
    "11 context elements": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
    "26 actions": [{"type": "actions", "elements": [
        {"type": "button", "action_id": f"a{i}", "text": {"type": "plain_text", "text": "b"}} for i in range(26)]}],
    "duplicate block_id": [dict(section("a"), block_id="same"), dict(section("b"), block_id="same")],
    "block_id over 255": [dict(section("a"), block_id="b" * 256)],
    "overflow with 6 options": [{"type": "actions", "elements": [{"type": "overflow", "action_id": "o", "options": [
        {"text": {"type": "plain_text", "text": f"o{i}"}, "value": f"{i}"} for i in range(6)]}]}],
    "option value over 150": [{"type": "actions", "elements": [{"type": "static_select", "action_id": "s",
        "options": [{"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}]}]}],
    "option text over 75": [{"type": "actions", "elements": [{"type": "static_select", "action_id": "s",
        "options": [{"text": {"type": "plain_text", "text": "o" * 76}, "value": "v"}]}]}],
    "101 options": [{"type": "actions", "elements": [{"type": "static_select", "action_id": "s", "options": [
        {"text": {"type": "plain_text", "text": f"o{i}"}, "value": f"{i}"} for i in range(101)]}]}],
    "unknown element": [{"type": "actions", "elements": [{"type": "laser", "action_id": "l"}]}],
    "input in a message": [{"type": "input", "label": {"type": "plain_text", "text": "L"},
                            "element": {"type": "plain_text_input", "action_id": "i"}}],
    "plain_text_input max_length 3001": [{"type": "input", "dispatch_action": True,
        "label": {"type": "plain_text", "text": "L"},
        "element": {"type": "plain_text_input", "action_id": "i", "max_length": 3001}}],
    "empty text": [section("")],
}


@pytest.mark.parametrize("case", BAD_BLOCKS)
def test_invalid_blocks_are_refused_and_nothing_is_stored(slack, client, case):
    channel = slack.add_channel(name="team")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=channel, text="fallback", blocks=BAD_BLOCKS[case])
    body = err.value.response.data
    assert body["error"] == "invalid_blocks" and body["errors"]
    assert body["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert slack.messages(channel) == []
    (call,) = slack.calls_to("chat.postMessage")
    assert not call.ok and call.params["blocks"] == BAD_BLOCKS[case]


def test_blocks_as_form_encoded_json_are_decoded_and_checked(slack):
    channel = slack.add_channel(name="team")
    good = api(slack, "chat.postMessage", channel=channel, text="t", blocks=json.dumps([section("hi")])).json()
    assert good["ok"] and slack.calls[-1].params["blocks"] == [section("hi")]
    assert api(slack, "chat.postMessage", channel=channel, blocks="[{not json").json()["error"] == \
        "invalid_blocks_format"
    assert api(slack, "chat.postMessage", channel=channel).json()["error"] == "no_text"
    assert api(slack, "chat.postMessage", channel=channel, text="x" * 40_001).json()["error"] == "msg_too_long"
    assert len(slack.messages(channel)) == 1


def test_slack_sdk_built_messages_are_accepted(slack, client):
    channel = slack.add_channel(name="team")
    blocks = [HeaderBlock(text="LR-1 · Payouts"), SectionBlock(text="*bold* text", fields=["a", "b"]),
              ActionsBlock(elements=[ButtonElement(text="Done", action_id="done", value="1", style="primary")])]
    client.chat_postMessage(channel=channel, text="fallback", blocks=blocks)
    (message,) = slack.messages(channel)
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "actions"]
    assert all(b.get("block_id") for b in message["blocks"])  # Slack fills in missing ids


# -- conversations and DMs --------------------------------------------------------------------

def test_dm_by_user_id_lands_in_the_stable_dm_channel(slack, client):
    dm = slack.dm_channel_for("UWFM")
    assert dm.startswith("D") and dm == slack.dm_channel_for("UWFM")
    sent = client.chat_postMessage(channel="UWFM", text="hello")
    assert sent["channel"] == dm
    assert client.conversations_open(users="UWFM")["channel"]["id"] == dm
    assert [m["text"] for m in slack.messages(dm)] == ["hello"]
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_update(channel="UWFM", ts=sent["ts"], text="edit via U id")  # needs the D id
    client.chat_postEphemeral(channel=dm, user="UWFM", text="psst")
    with pytest.raises(SlackApiError, match="user_not_in_channel"):
        client.chat_postEphemeral(channel=dm, user="UPM", text="wrong person")
    assert [e["text"] for e in slack.ephemerals(user="UWFM")] == ["psst"]
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="UNOBODY", text="x")
    slack.deactivate_user("UWFM")
    assert client.users_info(user="UWFM")["user"]["deleted"] is True
    assert client.chat_postMessage(channel="UWFM", text="still delivered")["ok"]  # as on Slack
    with pytest.raises(SlackApiError, match="user_disabled"):
        client.conversations_open(users="UWFM")


def test_update_replaces_in_place_and_delete_removes(slack, client):
    channel = slack.add_channel(name="team")
    first = client.chat_postMessage(channel=channel, text="one", blocks=[section("one")])
    client.chat_postMessage(channel=channel, text="two")
    updated = client.chat_update(channel=channel, ts=first["ts"], text="uno")
    assert updated["ts"] == first["ts"]
    messages = slack.messages(channel)
    assert [m["text"] for m in messages] == ["uno", "two"]
    assert messages[0]["blocks"][0]["text"]["text"] == "one"  # blocks left out stay, as on Slack
    assert messages[0]["edited"]["user"] == SlackStandIn.BOT_USER
    assert float(messages[0]["ts"]) < float(messages[1]["ts"])
    with pytest.raises(SlackApiError, match="message_not_found"):
        client.chat_update(channel=channel, ts="1.000000", text="x")
    client.chat_delete(channel=channel, ts=first["ts"])
    assert [m["text"] for m in slack.messages(channel)] == ["two"]


def test_posting_needs_a_channel_the_bot_is_in(slack, client):
    outside = slack.add_channel(name="outside", bot_member=False)
    secret = slack.add_channel(name="secret", is_private=True, bot_member=False)
    old = slack.add_channel(name="old", archived=True)
    for channel, error in ((outside, "not_in_channel"), (secret, "channel_not_found"), (old, "is_archived"),
                           ("C0MISSING", "channel_not_found"), ("#general", "channel_not_found")):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel=channel, text="x")
        assert err.value.response["error"] == error, channel
    assert client.conversations_join(channel=outside)["ok"]
    assert client.chat_postMessage(channel=outside, text="now")["ok"]
    with pytest.raises(SlackApiError, match="method_not_supported_for_channel_type"):
        client.conversations_join(channel=slack.add_channel(name="priv", is_private=True))


def test_channel_names_and_name_taken(slack, client):
    slack.add_channel(name="taken")
    archived = client.conversations_create(name="archived-one")["channel"]["id"]
    client.conversations_archive(channel=archived)
    for name, error in (("taken", "name_taken"), ("archived-one", "name_taken"), ("Upper", "invalid_name_specials"),
                        ("has space", "invalid_name_specials"), ("dot.ted", "invalid_name_specials"),
                        ("x" * 81, "invalid_name_maxlength"), ("", "invalid_name_required"),
                        ("---", "invalid_name_punctuation")):
        with pytest.raises(SlackApiError) as err:
            client.conversations_create(name=name)
        assert err.value.response["error"] == error, name
    created = client.conversations_create(name="lr-1-payouts_2")["channel"]
    assert created["is_member"] and created["name"] == "lr-1-payouts_2"
    assert slack.channel(created["id"])["members"] == [SlackStandIn.BOT_USER]


def test_conversations_list_pages_with_a_cursor_and_filters_after_paging(slack, client):
    mine = client.conversations_create(name="lr-1-mine")["channel"]["id"]
    theirs = slack.add_channel(name="general", bot_member=False)
    gone = slack.add_channel(name="old-news", archived=True)
    hidden = slack.add_channel(name="secret", is_private=True, bot_member=False)
    private = slack.add_channel(name="team-private", is_private=True)
    client.chat_postMessage(channel="UPM", text="hi")  # opens a DM

    def listing(**kw):
        names, cursor, pages = [], None, 0
        while True:
            resp = client.conversations_list(cursor=cursor, **kw)
            names += [c.get("name") or c["id"] for c in resp["channels"]]
            pages += 1
            cursor = resp["response_metadata"]["next_cursor"]
            if not cursor:
                return names, pages

    names, pages = listing(limit=1000)
    assert sorted(names) == ["general", "lr-1-mine", "old-news"] and pages == 1  # public only by default
    slack.list_page_size = 1
    names, pages = listing(types="public_channel", exclude_archived=True, limit=1000)
    assert sorted(names) == ["general", "lr-1-mine"] and pages == 6  # one per conversation, some empty
    first = client.conversations_list(limit=1)
    assert len(first["channels"]) <= 1 and first["response_metadata"]["next_cursor"]
    names, _ = listing(types="private_channel,im")
    assert "team-private" in names and "secret" not in names and slack.dm_channel_for("UPM") in names
    slack.list_page_size = None
    (row,) = [c for c in client.conversations_list()["channels"] if c["id"] == mine]
    assert row["creator"] == SlackStandIn.BOT_USER and row["is_member"] and row["num_members"] == 1
    assert {c["id"]: c["creator"] for c in client.conversations_list()["channels"]}[theirs] == "UADMIN"
    assert {gone, hidden, private} - {c["id"] for c in client.conversations_list()["channels"]} == {hidden, private}
    for kw, error in (({"limit": 1001}, "invalid_limit"), ({"limit": 0}, "invalid_limit"),
                      ({"limit": "ten"}, "invalid_limit"), ({"cursor": "not-a-cursor"}, "invalid_cursor"),
                      ({"types": "public_channel,shared"}, "invalid_types")):
        with pytest.raises(SlackApiError) as err:
            client.conversations_list(**kw)
        assert err.value.response["error"] == error, kw


def test_invite_rules(slack, client):
    channel = client.conversations_create(name="lr-1")["channel"]["id"]
    client.conversations_invite(channel=channel, users="UPM")
    # Some already there: Slack invites the rest.
    client.conversations_invite(channel=channel, users=["UPM", "UWFM"])
    assert slack.channel(channel)["members"] == sorted(["UBOT", "UPM", "UWFM"])
    cases = (("UPM,UWFM", "already_in_channel"), ("ULEAD,UBOT", "cant_invite_self"),
             ("ULEAD,UGHOST", "user_not_found"))
    for users, error in cases:
        with pytest.raises(SlackApiError) as err:
            client.conversations_invite(channel=channel, users=users)
        assert err.value.response["error"] == error
    assert "ULEAD" not in slack.channel(channel)["members"]  # a failed invite invites nobody
    outside = slack.add_channel(name="outside", bot_member=False)
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.conversations_invite(channel=outside, users="UPM")
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.conversations_invite(channel="C0NOPE", users="UPM")


def test_users_and_groups(slack, client):
    user = client.users_info(user="UWFM")["user"]
    assert user["tz"] == "America/New_York" and user["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert user["tz_label"] in ("Eastern Standard Time", "Eastern Daylight Time") and not user["is_bot"]
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user="UGHOST")
    slack.add_usergroup("S0WFM", "wfm-team", ["UWFM", "UPM"])
    assert client.usergroups_users_list(usergroup="S0WFM")["users"] == ["UWFM", "UPM"]
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        client.usergroups_users_list(usergroup="S0NOPE")


# -- failure injection ------------------------------------------------------------------------

def test_rate_limit_has_retry_after_and_then_recovers(slack, client):
    channel = slack.add_channel(name="team")
    slack.rate_limit_next(1, retry_after=7, method="chat.postMessage")
    assert client.auth_test()["ok"]  # other methods are not affected
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=channel, text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel=channel, text="y")["ok"]
    assert [m["text"] for m in slack.messages(channel)] == ["y"]


def test_a_sustained_rate_limit_refills_at_its_rate(slack, client):
    """Slack's tiers: a burst goes through, then one call per refill; the rest get 429 with
    the whole seconds until a call would pass, and post nothing."""
    channel = slack.add_channel(name="team")
    now = [0.0]
    slack.rate_limit("chat.postMessage", per_minute=30, burst=2, clock=lambda: now[0])

    def post(text):
        try:
            return client.chat_postMessage(channel=channel, text=text).status_code
        except SlackApiError as exc:
            assert exc.response["error"] == "ratelimited"
            return exc.response.status_code, exc.response.headers["Retry-After"]

    assert [post("a"), post("b"), post("c")] == [200, 200, (429, "2")]
    assert client.auth_test()["ok"]  # other methods keep their own limits
    now[0] = 1.0
    assert post("d") == (429, "1")
    now[0] = 2.0
    assert [post("e"), post("f")] == [200, (429, "2")]
    slack.rate_limit("chat.postMessage", None)
    assert post("g") == 200
    assert [m["text"] for m in slack.messages(channel)] == ["a", "b", "e", "g"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [200, 200, 429, 429, 200, 429, 200]


def test_server_errors_then_recovery(slack, client):
    channel = slack.add_channel(name="team")
    slack.fail_next(2, status=500)
    slack.fail_next(1, status=503)
    statuses = []
    for i in range(4):
        try:
            client.chat_postMessage(channel=channel, text=f"m{i}")
            statuses.append(200)
        except SlackApiError as exc:
            statuses.append(exc.response.status_code)
    assert statuses == [500, 500, 503, 200]
    assert slack.calls[0].response == {"ok": False, "error": "internal_error"}
    assert slack.calls[2].response["error"] == "Service Unavailable"  # Slack's 503 is not JSON
    assert [m["text"] for m in slack.messages(channel)] == ["m3"]
    slack.fail_with("account_inactive", method="users.info")
    with pytest.raises(SlackApiError, match="account_inactive") as err:
        client.users_info(user="UPM")
    assert err.value.response.status_code == 200
    assert client.users_info(user="UPM")["ok"]


# -- triggers and views -----------------------------------------------------------------------

MODAL = {"type": "modal", "callback_id": "m", "title": {"type": "plain_text", "text": "T"},
         "blocks": [section("hello")]}


def test_trigger_ids_are_single_use_and_expire(slack, client, monkeypatch):
    trigger = slack.trigger_id("UPM")
    client.views_open(trigger_id=trigger, view=MODAL)
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        client.views_open(trigger_id=trigger, view=MODAL)
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        client.views_open(trigger_id="123.456.made-up", view=MODAL)
    late = slack.trigger_id("UPM")
    later = time.monotonic() + 3.5
    monkeypatch.setattr("tests.slack_standin.webapi.time.monotonic", lambda: later)
    with pytest.raises(SlackApiError, match="expired_trigger_id"):
        client.views_open(trigger_id=late, view=MODAL)


@pytest.mark.parametrize("view,needle", [
    (dict(MODAL, title={"type": "plain_text", "text": "t" * 25}), "title"),
    ({k: v for k, v in MODAL.items() if k != "title"}, "title"),
    (dict(MODAL, blocks=[{"type": "input", "label": {"type": "plain_text", "text": "L"},
                          "element": {"type": "plain_text_input", "action_id": "a"}}]), "submit"),
    (dict(MODAL, private_metadata="p" * 3001), "private_metadata"),
    (dict(MODAL, blocks=[section("x")] * 101), "100"),
    (dict(MODAL, blocks=[{"type": "markdown", "text": "not in modals"}]), "markdown"),
])
def test_invalid_views_are_refused(slack, client, view, needle):
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=slack.trigger_id("UPM"), view=view)
    assert err.value.response["error"] == "invalid_arguments"
    assert needle in " ".join(err.value.response["response_metadata"]["messages"])
    assert slack.views("UPM") == []


def test_views_update_needs_a_known_view_and_a_fresh_hash(slack, client):
    opened = client.views_open(trigger_id=slack.trigger_id("UPM"), view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=dict(MODAL, blocks=[section("2")]))
    assert updated["view"]["id"] == opened["id"] and updated["view"]["hash"] != opened["hash"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    with pytest.raises(SlackApiError, match="not_found"):
        client.views_update(view_id="V0NOPE", view=MODAL)
    for _ in range(2):
        client.views_push(trigger_id=slack.trigger_id("UPM"), view=MODAL)
    with pytest.raises(SlackApiError, match="push_limit_reached"):
        client.views_push(trigger_id=slack.trigger_id("UPM"), view=MODAL)
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_publish(user_id="UPM", view=dict(MODAL, type="home", submit={"type": "plain_text",
                                                                                    "text": "no"}))


# -- broadcasts and disguised links -----------------------------------------------------------

@pytest.mark.parametrize("text,pings", [
    ("<!channel> look", True), ("<!here|here>", True), ("<!everyone>", True), ("<!subteam^S0WFM|@wfm>", True),
    ("<https://evil.example|https://bank.example/login>", True), ("<http://evil.example|bank.example>", True),
    ("&lt;!channel&gt; &lt;https://evil.example|click&gt;", False), ("<https://docs.example/x|Runbook>", False),
    ("<https://bank.example/a|bank.example>", False), ("<@UPM> owns it, see <#C123>", False),
])
def test_mentions_broadcast_detection(slack, client, text, pings):
    channel = slack.add_channel(name="team")
    client.chat_postMessage(channel=channel, text="safe", blocks=[section(text)])
    assert slack.calls[-1].mentions_broadcast is pings
    assert mentions_broadcast({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": text}}]}) is pings


def test_mentions_broadcast_looks_at_text_and_views_but_not_values(slack, client):
    channel = slack.add_channel(name="team")
    client.chat_postMessage(channel=channel, text="<!here> fallback")
    client.views_open(trigger_id=slack.trigger_id("UPM"),
                      view=dict(MODAL, title={"type": "plain_text", "text": "<!channel>"}))
    client.chat_postMessage(channel=channel, text="ok", blocks=[{"type": "actions", "elements": [
        {"type": "button", "action_id": "b", "value": "<!channel>", "text": {"type": "plain_text", "text": "Go"}}]}])
    assert [c.mentions_broadcast for c in slack.calls] == [True, True, False]


# -- reset ------------------------------------------------------------------------------------

def test_reset_forgets_everything_but_keeps_serving(slack, client):
    channel = slack.add_channel(name="team")
    client.chat_postMessage(channel=channel, text="x")
    slack.fail_next(5)
    slack.reset()
    assert slack.calls == [] and slack.messages(channel) == [] and slack.ephemerals() == []
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user="UPM")
    assert client.auth_test()["user_id"] == "UBOT"  # no leftover injected failure


# -- response URLs and clicks in views --------------------------------------------------------

def _response_url(slack, capture, channel_id):
    capture.requests.clear()
    slack.send_slash_command(capture.url, command="/launch", user_id="UPM", channel_id=channel_id)
    (_, body), = capture.requests
    return parse_qs(body.decode())["response_url"][0]


def test_response_url_posts_are_validated_and_limited(slack, capture):
    channel = slack.add_channel(name="team", members=["UPM"])
    url = _response_url(slack, capture, channel)
    assert httpx.post(url, json={"text": "just you"}).json() == {"ok": True}
    assert httpx.post(url, json={"text": "everyone", "response_type": "in_channel"}).status_code == 200
    bad = httpx.post(url, json={"text": "t", "blocks": [{"type": "nope"}]})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_blocks"
    assert httpx.post(url, json={"response_type": "ephemeral"}).json()["error"] == "no_text"
    assert [e["text"] for e in slack.ephemerals(user="UPM")] == ["just you"]
    assert [m["text"] for m in slack.messages(channel)] == ["everyone"]
    assert [r.ok for r in slack.responses] == [True, True, False, False]
    assert httpx.post(url, json={"text": "fifth"}).status_code == 200
    assert httpx.post(url, json={"text": "sixth"}).json()["error"] == "used_url"  # 5 uses, as on Slack
    assert httpx.post(slack.base_url + "response/R0NOPE", json={"text": "x"}).status_code == 404


def test_click_in_a_modal_sends_the_view_and_the_chosen_option(slack, client, capture):
    select = {"type": "static_select", "action_id": "pick", "placeholder": {"type": "plain_text", "text": "Pick"},
              "options": [{"text": {"type": "plain_text", "text": n}, "value": n} for n in ("red", "blue")]}
    view = client.views_open(trigger_id=slack.trigger_id("UPM"), view=dict(MODAL, blocks=[
        {"type": "section", "block_id": "colour", "text": {"type": "mrkdwn", "text": "Colour?"},
         "accessory": select}]))["view"]
    capture.requests.clear()
    slack.click(capture.url, "UPM", slack.views("UPM")[0], "pick", "blue")
    (_, body), = capture.requests
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    assert payload["type"] == "block_actions" and payload["container"] == {"type": "view", "view_id": view["id"]}
    assert payload["view"]["id"] == view["id"] and "response_url" not in payload
    (action,) = payload["actions"]
    assert action["block_id"] == "colour" and action["selected_option"]["value"] == "blue"
    with pytest.raises(ValueError, match="no option 'green'"):
        slack.click(capture.url, "UPM", view, "pick", "green")
    with pytest.raises(LookupError):
        slack.click(capture.url, "UPM", view, "missing")


def test_low_level_block_action_payload(slack, capture):
    capture.requests.clear()
    slack.send_block_action(capture.url, "UWFM", "item.done", "42", block_id="item-42", channel_id="C1",
                            message={"ts": "1700000000.000100", "channel": "C1", "text": "t", "blocks": []})
    payload = json.loads(parse_qs(capture.requests[0][1].decode())["payload"][0])
    assert payload["user"]["id"] == "UWFM" and payload["trigger_id"]
    assert payload["actions"][0] == {**payload["actions"][0], "action_id": "item.done", "value": "42",
                                     "block_id": "item-42", "type": "button"}
    assert payload["container"]["message_ts"] == "1700000000.000100"
    assert payload["response_url"].startswith(slack.base_url + "response/")
