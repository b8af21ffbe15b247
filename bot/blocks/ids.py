"""Action, callback and block ids: string enums so payloads stay readable."""
from enum import StrEnum


class Action(StrEnum):
    ITEM_DONE = "item.done"
    ITEM_MENU = "item.menu"          # overflow: n/a, blocked, reopen, delegate, reassign
    ITEM_ANSWER = "item.answer"      # opens the answer modal
    SNOOZE = "nudge.snooze"          # suffixed ":1d" / ":3d" / ":due" (action ids are unique per message)
    GATE_DECIDE = "gate.decide"      # opens the decision modal (value: gate id + outcome)
    HOME_REFRESH = "home.refresh"
    ITEM_WAIVE = "item.waive"        # opens the waive modal for one item (readiness leads)
    OPEN_LAUNCH_MODAL = "launch.new"
    ROSTER_ADD = "roster.add"        # "Someone's missing…" on the stakeholder-list item (value: launch id)
    REMINDER_SUMMARY = "person.summary"  # Home: daily reminders / weekly summary (value: "daily" | "weekly N")


class Callback(StrEnum):
    LAUNCH_NEW = "launch_new"
    LAUNCH_EDIT = "launch_edit"
    ITEM_ANSWER = "item_answer"
    ITEM_REASON = "item_reason"      # n/a or blocked with a reason
    ITEM_REASSIGN = "item_reassign"
    ITEM_DELEGATE = "item_delegate"  # choose (or remove) who may answer for the owner
    GATE_DECISION = "gate_decision"
    ITEM_WAIVE = "item_waive"
    ITEM_UNWAIVE = "item_unwaive"
    ITEM_ADD = "item_add"            # `/launch add KEY`: an ad-hoc item
    ITEM_REMOVE = "item_remove"      # `/launch remove KEY`: pick an open item, give a reason
    ROSTER_ADD = "roster_add"        # add a missing person to a role of the launch


class Field(StrEnum):
    """Input block ids, shared by the modal builders and the parsers."""

    NAME = "name"
    KIND = "kind"
    MARKETS = "markets"
    LAUNCH_DATE = "launch_date"
    READINESS_LEAD = "readiness_lead"
    BRIEF = "brief"
    CHANNEL = "channel"
    PRIVATE = "private"
    QUESTION = "question"
    OWNER_ROLE = "owner_role"
    OWNER = "owner"
    GATE = "gate"
    DUE = "due"
    REQUIRED = "required"
    ANSWER_KIND = "answer_kind"
    ROLE = "role"
    VALUE = "value"
    REASON = "reason"
    EVIDENCE = "evidence"
    USER = "user"
    EXPIRES = "expires"
    CONDITIONS = "conditions"
    REOPEN = "reopen"
    ITEM = "item"
    NOTE = "note"
    STATUS = "status"
    WEEK1 = "week1"
    WEEK2 = "week2"
    WEEK3 = "week3"
    WEEK4 = "week4"
    WEEK5 = "week5"
    WEEK6 = "week6"
    AHT = "aht"
    SL_PERCENT = "sl_percent"
    SL_SECONDS = "sl_seconds"
    SHRINKAGE = "shrinkage"
