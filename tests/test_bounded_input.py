"""Ids and keys people type are bounded before they reach the database (issue 12, point 5):
on PostgreSQL an id past 2^31-1 used to be a 500 (integer out of range)."""
from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("sub", ["status", "timeline", "edit", "resume", "waive", "unwaive"])
@pytest.mark.parametrize("key", ["LR-2147483648", "LR-99999999999999999999", "LR-0", "LR-٣", "<!channel>"])
def test_launch_keys_out_of_range_are_a_polite_not_found(standin, bot, sub, key):
    resp = standin.send_slash_command(bot.url, text=f"{sub} {key}", user_id="UPM")
    assert resp.status_code == 200
    text = json.dumps(standin.reply(resp))  # status answers after an empty ack
    assert "No launch" in text and "<!channel>" not in text
