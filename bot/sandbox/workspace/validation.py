"""Block Kit, message and view checks, as strict as Slack's own.

Two passes over every block: slack_sdk's models (`Block.parse` then
`validate_json()`/`to_dict()`, which validates nested objects) and our own
walk, because slack_sdk skips unknown types silently and misses many of the
limits Slack enforces (option lengths, overflow sizes, header text type,
unique ids…). Each problem reads like Slack's: "<what> [json-pointer:/blocks/3/text]".
"""
from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_TEXT_MAX = 40_000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
ATTACHMENTS_MAX = 100

SELECTS = {"static_select", "external_select", "users_select", "conversations_select", "channels_select"}
MULTI_SELECTS = {f"multi_{s}" for s in SELECTS}
CHOICES = {"button", "checkboxes", "datepicker", "overflow", "radio_buttons", "timepicker", "workflow_button"}
SECTION_ACCESSORIES = CHOICES | SELECTS | MULTI_SELECTS | {"image"}
ACTIONS_ELEMENTS = CHOICES | SELECTS | MULTI_SELECTS | {"datetimepicker"}
INPUT_ELEMENTS = (SELECTS | MULTI_SELECTS | {"checkboxes", "datepicker", "datetimepicker", "email_text_input",
                  "file_input", "number_input", "plain_text_input", "radio_buttons", "rich_text_input",
                  "timepicker", "url_text_input"})
CONTEXT_ELEMENTS = {"image", "plain_text", "mrkdwn"}
SURFACE_BLOCKS = {
    "message": {"actions", "context", "divider", "file", "header", "image", "input", "markdown", "rich_text",
                "section", "table", "video"},
    "modal": {"actions", "context", "divider", "header", "image", "input", "rich_text", "section", "video"},
    "home": {"actions", "context", "divider", "header", "image", "input", "rich_text", "section", "video"},
}
SDK_ERRORS = (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError)


class Problems:
    def __init__(self):
        self.items: list[str] = []

    def add(self, pointer: str, message: str) -> None:
        self.items.append(f"{message} [json-pointer:{pointer}]")

    def __bool__(self) -> bool:
        return bool(self.items)


# -- messages ---------------------------------------------------------------------------

def check_message(params: dict, *, require_content: bool = True) -> dict | None:
    """The error body Slack answers for a bad message, or None when it is fine.

    `params` has `text`, `blocks`, `attachments` (already JSON-decoded where
    they arrived as strings; a string left here did not parse).
    """
    text, blocks, attachments = params.get("text"), params.get("blocks"), params.get("attachments")
    if text is not None and not isinstance(text, str):
        text = str(text)
    if text and len(text) > MESSAGE_TEXT_MAX:
        return {"ok": False, "error": "msg_too_long"}
    if isinstance(blocks, str) or (blocks is not None and not isinstance(blocks, list)):
        return {"ok": False, "error": "invalid_blocks_format"}
    if isinstance(attachments, str) or (attachments is not None and not isinstance(attachments, list)):
        return {"ok": False, "error": "invalid_attachments"}
    if attachments and len(attachments) > ATTACHMENTS_MAX:
        return {"ok": False, "error": "too_many_attachments"}
    if require_content and not text and not blocks and not attachments:
        return {"ok": False, "error": "no_text"}
    problems = Problems()
    if blocks:
        check_blocks(blocks, "message", "/blocks", problems)
    for i, attachment in enumerate(attachments or []):
        if not isinstance(attachment, dict):
            problems.add(f"/attachments/{i}", "must be an object")
        elif attachment.get("blocks"):
            check_blocks(attachment["blocks"], "message", f"/attachments/{i}/blocks", problems)
    return invalid_blocks(problems) if problems else None


def invalid_blocks(problems: Problems) -> dict:
    return {"ok": False, "error": "invalid_blocks", "errors": list(problems.items),
            "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems.items]}}


# -- views ------------------------------------------------------------------------------

def check_view(view: Any, *, expect: str | None = None) -> list[str]:
    """Problems with a view for views.open/push/update/publish (empty when fine)."""
    problems = Problems()
    if not isinstance(view, dict):
        problems.add("/view", "must be a JSON object")
        return problems.items
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.add("/view/type", f"must be 'modal' or 'home', not {kind!r}")
        return problems.items
    if expect and kind != expect:
        problems.add("/view/type", f"this method needs a {expect} view, not {kind}")
    for key, limit in (("callback_id", 255), ("external_id", 255), ("private_metadata", 3000)):
        value = view.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            problems.add(f"/view/{key}", f"must be a string of at most {limit} characters")
    if kind == "modal":
        if "title" not in view:
            problems.add("/view/title", "a modal needs a title")
        for key in ("title", "submit", "close"):
            if key in view:
                _text(view[key], f"/view/{key}", problems, plain=True, limit=24)
    else:
        for key in ("submit", "close"):
            if key in view:
                problems.add(f"/view/{key}", f"a home tab cannot have {key}")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.add("/view/blocks", "must be an array of blocks")
        return problems.items
    check_blocks(blocks, kind, "/view/blocks", problems)
    if kind == "modal" and "submit" not in view and any(isinstance(b, dict) and b.get("type") == "input"
                                                          for b in blocks):
        problems.add("/view/submit", "a modal with input blocks needs submit")
    if not problems:
        try:
            View(**copy.deepcopy(view)).validate_json()
        except SDK_ERRORS as exc:
            problems.add("/view", str(exc))
    return problems.items


# -- blocks -----------------------------------------------------------------------------

def check_blocks(blocks: Any, surface: str, pointer: str, problems: Problems) -> None:
    if not isinstance(blocks, list):
        problems.add(pointer, "must be an array")
        return
    limit = MESSAGE_BLOCKS_MAX if surface == "message" else VIEW_BLOCKS_MAX
    if len(blocks) > limit:
        problems.add(pointer, f"must contain at most {limit} blocks, not {len(blocks)}")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict):
            problems.add(where, "must be an object")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen:
                problems.add(f"{where}/block_id", f"duplicate block_id {block_id!r}")
            seen.add(block_id)
        before = len(problems.items)
        _check_block(block, surface, where, problems)
        if len(problems.items) == before:  # slack_sdk's own view, once ours found nothing
            _sdk_check(block, where, problems)


def _sdk_check(block: dict, pointer: str, problems: Problems) -> None:
    try:
        parsed = Block.parse(copy.deepcopy(block))
        if parsed is None:
            problems.add(pointer, f"unsupported block type {block.get('type')!r}")
            return
        parsed.validate_json()
        parsed.to_dict()  # validates nested elements and text objects too
    except SDK_ERRORS as exc:
        problems.add(pointer, f"{exc}")


def _check_block(block: dict, surface: str, p: str, problems: Problems) -> None:
    kind = block.get("type")
    if kind not in SURFACE_BLOCKS[surface]:
        what = "unknown block type" if not any(kind in s for s in SURFACE_BLOCKS.values()) else "block type"
        problems.add(f"{p}/type", f"{what} {kind!r} is not allowed in a {surface}")
        return
    _max_len(block.get("block_id"), 255, f"{p}/block_id", problems)
    check = BLOCK_CHECKS.get(kind)
    if check:
        check(block, surface, p, problems)


def _section(block, surface, p, problems):
    if "text" not in block and "fields" not in block:
        problems.add(p, "a section needs text or fields")
    if "text" in block:
        _text(block["text"], f"{p}/text", problems, limit=3000)
    if "fields" in block:
        fields = block["fields"]
        if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
            problems.add(f"{p}/fields", "must be an array of 1 to 10 text objects")
        else:
            for i, f in enumerate(fields):
                _text(f, f"{p}/fields/{i}", problems, limit=2000)
    if "accessory" in block:
        _elements([block["accessory"]], SECTION_ACCESSORIES, f"{p}/accessory", problems, single=True)


def _header(block, surface, p, problems):
    _text(block.get("text"), f"{p}/text", problems, plain=True, limit=150)


def _context(block, surface, p, problems):
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
        problems.add(f"{p}/elements", "must be an array of 1 to 10 elements")
        return
    for i, element in enumerate(elements):
        where = f"{p}/elements/{i}"
        if not isinstance(element, dict) or element.get("type") not in CONTEXT_ELEMENTS:
            problems.add(where, "context elements must be image, plain_text or mrkdwn")
        elif element["type"] == "image":
            _image(element, where, problems)
        else:
            _text(element, where, problems, limit=3000)


def _actions(block, surface, p, problems):
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
        problems.add(f"{p}/elements", "must be an array of 1 to 25 elements")
        return
    _elements(elements, ACTIONS_ELEMENTS, f"{p}/elements", problems)


def _input(block, surface, p, problems):
    if surface == "message" and not block.get("dispatch_action"):
        problems.add(p, "input blocks in messages need dispatch_action (nothing would submit them)")
    _text(block.get("label"), f"{p}/label", problems, plain=True, limit=2000)
    if "hint" in block:
        _text(block["hint"], f"{p}/hint", problems, plain=True, limit=2000)
    if "element" not in block:
        problems.add(f"{p}/element", "an input block needs an element")
    else:
        _elements([block["element"]], INPUT_ELEMENTS, f"{p}/element", problems, single=True)


def _image_block(block, surface, p, problems):
    _image(block, p, problems)
    if "title" in block:
        _text(block["title"], f"{p}/title", problems, plain=True, limit=2000)


def _markdown(block, surface, p, problems):
    if not isinstance(block.get("text"), str) or not 1 <= len(block["text"]) <= 12000:
        problems.add(f"{p}/text", "must be a string of 1 to 12000 characters")


def _rich_text(block, surface, p, problems):
    if not isinstance(block.get("elements"), list):
        problems.add(f"{p}/elements", "must be an array")


BLOCK_CHECKS = {"section": _section, "header": _header, "context": _context, "actions": _actions,
                "input": _input, "image": _image_block, "markdown": _markdown, "rich_text": _rich_text}


# -- elements ---------------------------------------------------------------------------

def _elements(elements: list, allowed: set[str], p: str, problems: Problems, single: bool = False) -> None:
    action_ids: set[str] = set()
    for i, element in enumerate(elements):
        where = p if single else f"{p}/{i}"
        if not isinstance(element, dict):
            problems.add(where, "must be an object")
            continue
        kind = element.get("type")
        if kind not in allowed:
            problems.add(f"{where}/type", f"element type {kind!r} is not allowed here")
            continue
        action_id = element.get("action_id")
        if action_id is not None:
            _max_len(action_id, 255, f"{where}/action_id", problems)
            if action_id in action_ids:
                problems.add(f"{where}/action_id", f"duplicate action_id {action_id!r} in one block")
            action_ids.add(action_id)
        check = ELEMENT_CHECKS.get(kind)
        if check:
            check(element, where, problems)
        if "placeholder" in element:
            _text(element["placeholder"], f"{where}/placeholder", problems, plain=True, limit=150)
        if "confirm" in element:
            _confirm(element["confirm"], f"{where}/confirm", problems)


def _button(e, p, problems):
    _text(e.get("text"), f"{p}/text", problems, plain=True, limit=75)
    _max_len(e.get("value"), 2000, f"{p}/value", problems)
    _max_len(e.get("url"), 3000, f"{p}/url", problems)
    if "style" in e and e["style"] not in ("primary", "danger"):
        problems.add(f"{p}/style", "must be primary or danger")


def _static_select(e, p, problems, *, multi=False):
    has_options, has_groups = "options" in e, "option_groups" in e
    if has_options == has_groups:
        problems.add(p, "needs exactly one of options or option_groups")
        return
    values: list[str] = []
    if has_options:
        values = _options(e["options"], f"{p}/options", problems, 1, 100, plain=True)
    else:
        groups = e["option_groups"]
        if not isinstance(groups, list) or not 1 <= len(groups) <= 100:
            problems.add(f"{p}/option_groups", "must be an array of 1 to 100 option groups")
            return
        for i, group in enumerate(groups):
            gp = f"{p}/option_groups/{i}"
            if not isinstance(group, dict):
                problems.add(gp, "must be an object")
                continue
            _text(group.get("label"), f"{gp}/label", problems, plain=True, limit=75)
            values += _options(group.get("options"), f"{gp}/options", problems, 1, 100, plain=True)
    _initial_options(e, values, p, problems, multi)


def _multi_static_select(e, p, problems):
    _static_select(e, p, problems, multi=True)
    _min_selected(e, p, problems)


def _overflow(e, p, problems):
    _options(e.get("options"), f"{p}/options", problems, 1, 5, plain=True)


def _checkboxes(e, p, problems):
    values = _options(e.get("options"), f"{p}/options", problems, 1, 10, plain=False)
    _initial_options(e, values, p, problems, multi=True)


def _radio_buttons(e, p, problems):
    values = _options(e.get("options"), f"{p}/options", problems, 1, 10, plain=False)
    _initial_options(e, values, p, problems, multi=False)


def _plain_text_input(e, p, problems):
    low, high = e.get("min_length"), e.get("max_length")
    for key, value in (("min_length", low), ("max_length", high)):
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
            problems.add(f"{p}/{key}", "must be an integer from 0 to 3000")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.add(f"{p}/min_length", "must not be more than max_length")
    initial = e.get("initial_value")
    if initial is not None and isinstance(high, int) and len(str(initial)) > high:
        problems.add(f"{p}/initial_value", "is longer than max_length")


def _datepicker(e, p, problems):
    initial = e.get("initial_date")
    if initial is not None:
        try:
            date.fromisoformat(initial)
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", initial)
        except (TypeError, ValueError, AssertionError):
            problems.add(f"{p}/initial_date", "must be YYYY-MM-DD")


def _timepicker(e, p, problems):
    initial = e.get("initial_time")
    if initial is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(initial)):
        problems.add(f"{p}/initial_time", "must be HH:mm")


def _min_selected(e, p, problems):
    if "max_selected_items" in e and (not isinstance(e["max_selected_items"], int) or e["max_selected_items"] < 1):
        problems.add(f"{p}/max_selected_items", "must be at least 1")


def _image(e, p, problems):
    if "image_url" not in e and "slack_file" not in e:
        problems.add(p, "an image needs image_url or slack_file")
    _max_len(e.get("image_url"), 3000, f"{p}/image_url", problems)
    if not isinstance(e.get("alt_text"), str) or not 1 <= len(e["alt_text"]) <= 2000:
        problems.add(f"{p}/alt_text", "must be a string of 1 to 2000 characters")


ELEMENT_CHECKS = {
    "button": _button, "static_select": _static_select, "multi_static_select": _multi_static_select,
    "overflow": _overflow, "checkboxes": _checkboxes, "radio_buttons": _radio_buttons,
    "plain_text_input": _plain_text_input, "datepicker": _datepicker, "timepicker": _timepicker,
    "image": _image, **{kind: _min_selected for kind in MULTI_SELECTS - {"multi_static_select"}},
}


# -- small objects ----------------------------------------------------------------------

def _text(obj: Any, p: str, problems: Problems, *, plain: bool = False, limit: int = 3000) -> None:
    if not isinstance(obj, dict):
        problems.add(p, "must be a text object")
        return
    kind = obj.get("type")
    if kind not in ("plain_text", "mrkdwn") or (plain and kind != "plain_text"):
        problems.add(f"{p}/type", "must be plain_text" if plain else "must be plain_text or mrkdwn")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.add(f"{p}/text", "must be a non-empty string")
    elif len(text) > limit:
        problems.add(f"{p}/text", f"must be at most {limit} characters, not {len(text)}")
    if "verbatim" in obj and kind != "mrkdwn":
        problems.add(f"{p}/verbatim", "only mrkdwn text has verbatim")


def _options(options: Any, p: str, problems: Problems, low: int, high: int, *, plain: bool) -> list[str]:
    if not isinstance(options, list) or not low <= len(options) <= high:
        problems.add(p, f"must be an array of {low} to {high} options")
        return []
    values = []
    for i, option in enumerate(options):
        where = f"{p}/{i}"
        if not isinstance(option, dict):
            problems.add(where, "must be an option object")
            continue
        _text(option.get("text"), f"{where}/text", problems, plain=plain, limit=75)
        value = option.get("value")
        if not isinstance(value, str) or not 1 <= len(value) <= 150:
            problems.add(f"{where}/value", "must be a string of 1 to 150 characters")
        else:
            values.append(value)
        if "description" in option:
            _text(option["description"], f"{where}/description", problems, plain=plain, limit=75)
    if len(set(values)) != len(values):
        problems.add(p, "option values must be unique")
    return values


def _initial_options(e: dict, values: list[str], p: str, problems: Problems, multi: bool) -> None:
    chosen = e.get("initial_options" if multi else "initial_option")
    if chosen is None:
        return
    for option in chosen if multi else [chosen]:
        if not isinstance(option, dict) or option.get("value") not in values:
            problems.add(f"{p}/initial_option{'s' if multi else ''}", "must exactly match one of the options")


def _confirm(obj: Any, p: str, problems: Problems) -> None:
    if not isinstance(obj, dict):
        problems.add(p, "must be a confirmation object")
        return
    for key, limit in (("title", 100), ("confirm", 30), ("deny", 30)):
        if key in obj:
            _text(obj[key], f"{p}/{key}", problems, plain=True, limit=limit)
    _text(obj.get("text"), f"{p}/text", problems, limit=300)


def _max_len(value: Any, limit: int, p: str, problems: Problems) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        problems.add(p, f"must be a string of at most {limit} characters")
