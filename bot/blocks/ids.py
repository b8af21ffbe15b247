"""Action, callback and block ids: string enums so payloads stay readable."""
from enum import StrEnum


class Action(StrEnum):
    ITEM_DONE = "item.done"
    ITEM_MENU = "item.menu"          # overflow: n/a, blocked, reassign, edit
    ITEM_ANSWER = "item.answer"      # opens the answer modal
    SNOOZE = "nudge.snooze"
    GATE_DECIDE = "gate.decide"      # opens the decision modal (value: gate id + outcome)
    HOME_REFRESH = "home.refresh"
    OPEN_LAUNCH_MODAL = "launch.new"


class Callback(StrEnum):
    LAUNCH_NEW = "launch_new"
    LAUNCH_EDIT = "launch_edit"
    ITEM_ANSWER = "item_answer"
    ITEM_REASON = "item_reason"      # n/a or blocked with a reason
    ITEM_REASSIGN = "item_reassign"
    GATE_DECISION = "gate_decision"
    ITEM_WAIVE = "item_waive"


class Field(StrEnum):
    """Input block ids, shared by the modal builders and the parsers."""

    NAME = "name"
    KIND = "kind"
    MARKETS = "markets"
    LAUNCH_DATE = "launch_date"
    READINESS_LEAD = "readiness_lead"
    BRIEF = "brief"
    CHANNEL = "channel"
    VALUE = "value"
    REASON = "reason"
    EVIDENCE = "evidence"
    USER = "user"
    EXPIRES = "expires"
    CONDITIONS = "conditions"
    REOPEN = "reopen"
