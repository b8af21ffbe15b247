"""Button values, private metadata and outbox payloads: what we write reads back, and
nothing else does (issue 9; the fuzz tests of issue 12 build on these codecs)."""
from __future__ import annotations

import json

import pytest

from bot.codecs import (
    ChannelPayload,
    DecisionModal,
    ItemAction,
    ItemModal,
    PayloadError,
    ReviewPayload,
    SnoozeValue,
    VoteValue,
    WaiveModal,
)
from tests.flows import events, open_launch_via_slack


def test_what_we_write_reads_back_in_the_format_slack_already_carries():
    assert ItemAction(item=7, op="na").encode() == json.dumps({"i": 7, "op": "na"})
    assert ItemAction.decode('{"i": 7, "op": "na"}') == ItemAction(item=7, op="na")
    assert ItemAction.decode("7") == ItemAction(item=7) and ItemAction(item=7).button_value() == "7"
    assert ItemModal(item=3, home=1).encode() == '{"i":3,"home":1}'
    assert VoteValue.decode(VoteValue(gate=2, round=1).encode()) == VoteValue(gate=2, round=1)
    assert SnoozeValue.decode('{"l": 4, "s": "1d"}').choice == "1d"
    assert DecisionModal.decode('{"g": 1, "r": 2, "o": "no_go", "h": 0}').outcome == "no_go"
    assert WaiveModal.decode('{"l": 9}') == WaiveModal(launch=9)
    assert ReviewPayload.load({"gate": 1, "round": 1, "to": "channel"}).to == "channel"


@pytest.mark.parametrize("raw", [
    None, "", "0", "-1", "2147483648", "99999999999", "1e3", "7.0", '{"i": 0}', '{"i": 2147483648}',
    '{"i": "7"}', '{"i": 7.5}', '{"i": true}', '{"i": NaN}', '{"i": Infinity}', '{"i": 7, "x": 1}',
    '{"i": 7, "op": "DROP TABLE"}', '{"i": 7, "op": "' + "a" * 40 + '"}', "[7]", '"7"', "{", "null",
    '{"i": 7' + " " * 3000 + "}", "[" * 5000 + "]" * 5000, '{"i":' + "[" * 1400 + "]" * 1400 + "}",
])
def test_anything_else_is_one_specific_error(raw):
    with pytest.raises(PayloadError):
        ItemAction.decode(raw)


@pytest.mark.parametrize("data", [
    None, [], {"gate": 1, "round": 1}, {"gate": 1, "round": -1, "to": "channel"},
    {"gate": 1, "round": 1, "to": "#general"}, {"gate": 2**40, "round": 1, "to": "UPM"},
])
def test_outbox_payloads_are_checked_the_same_way(data):
    with pytest.raises(PayloadError):
        ReviewPayload.load(data)


def test_channel_payloads_bound_names_and_people():
    with pytest.raises(PayloadError):
        ChannelPayload.load({"name": "Not A Slack Name", "users": []})
    with pytest.raises(PayloadError):
        ChannelPayload.load({"users": ["UPM", None]})


def test_a_forged_button_gets_a_polite_answer_and_changes_nothing(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    for value in ("not-an-id", '{"i": 99999999999}', '{"i": 1, "op": 5}'):
        resp = standin.send_block_action(bot.url, "UWFM", "item.done", value)
        assert resp.status_code == 200
    for value in ('{"i": "1", "op": "na"}', "{"):
        resp = standin.send_block_action(bot.url, "UWFM", "item.menu", action_type="overflow",
                                         selected_option={"value": value, "text": {"type": "plain_text", "text": "x"}})
        assert resp.status_code == 200
    told = standin.wait_for(lambda: [e["text"] for e in standin.ephemerals(user="UWFM")]
                            if len(standin.ephemerals(user="UWFM")) >= 5 else None)
    assert len(told) == 5 and all("out of date" in t for t in told)
    assert [e.action for e in events(bot.rt.ctx.engine, launch_id=launch.id) if e.action.startswith("item.")] == []
