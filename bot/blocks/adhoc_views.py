"""The Add item and Remove item modals (`/launch add|remove KEY`)."""
from __future__ import annotations

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.services.adhoc import KINDS, QUESTION_MAX, REASON_MAX
from models import Gate, Item, Launch

from .gate_views import item_picker
from .ids import Callback, Field
from .text import clip, day, esc

REQUIRED = "required"


def _role_label(role: str) -> str:
    return role.replace("_", " ").capitalize()


def add_item_modal(launch: Launch, gates: list[Gate], roles: list[str], *, current: Gate | None,
                   private_metadata: str) -> View:
    gate_options = [Option(value=str(g.id), text=clip(f"{g.name} (due {day(g.due_at)})", 75)) for g in gates]
    initial = next((o for o, g in zip(gate_options, gates) if current is not None and g.id == current.id), None)
    required = Option(value=REQUIRED, text="Required: the gate waits for it")
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=clip(
            f"Add an item to *{launch.key} · {esc(launch.name)}*. Its owner is prompted and reminded like any "
            "other item, and it is on the record."))),
        InputBlock(block_id=Field.QUESTION, label="Question", element=PlainTextInputElement(
            action_id=Field.QUESTION, max_length=QUESTION_MAX, placeholder="e.g. Is the FAQ translated into German?")),
        InputBlock(block_id=Field.OWNER_ROLE, label="Owner: a role of this launch", optional=True,
                   hint="Whoever holds that role on this launch owns it. Or pick a person below.",
                   element=StaticSelectElement(action_id=Field.OWNER_ROLE, placeholder="Role", options=[
                       Option(value=r, text=clip(_role_label(r), 75)) for r in roles[:100]])),
        InputBlock(block_id=Field.OWNER, label="…or a person", optional=True,
                   element=UserSelectElement(action_id=Field.OWNER, placeholder="Pick a person")),
        InputBlock(block_id=Field.GATE, label="Gate", element=StaticSelectElement(
            action_id=Field.GATE, options=gate_options[:100], initial_option=initial, placeholder="Gate")),
        InputBlock(block_id=Field.DUE, label="Due date", element=DatePickerElement(action_id=Field.DUE)),
        InputBlock(block_id=Field.ANSWER_KIND, label="Answered with", element=StaticSelectElement(
            action_id=Field.ANSWER_KIND, initial_option=Option(value="confirm", text=KINDS["confirm"]),
            options=[Option(value=k, text=v) for k, v in KINDS.items()])),
        InputBlock(block_id=Field.REQUIRED, label="Required", optional=True, element=CheckboxesElement(
            action_id=Field.REQUIRED, options=[required], initial_options=[required])),
    ]
    return View(type="modal", callback_id=Callback.ITEM_ADD, title="Add item", submit="Add", close="Cancel",
                private_metadata=private_metadata, blocks=blocks)


def roster_modal(launch: Launch, roles: list[str], *, private_metadata: str) -> View:
    """"Someone's missing": a role of the launch and the person who should hold it."""
    return View(type="modal", callback_id=Callback.ROSTER_ADD, title="Add a stakeholder", submit="Add",
                close="Cancel", private_metadata=private_metadata, blocks=[
                    SectionBlock(text=MarkdownTextObject(text=clip(
                        f"Add someone to *{launch.key} · {esc(launch.name)}*. They hold the role on this launch, are "
                        "invited to the channel, and take over that role's open items if nobody held it."))),
                    InputBlock(block_id=Field.ROLE, label="Role", element=StaticSelectElement(
                        action_id=Field.ROLE, placeholder="Role", options=[
                            Option(value=r, text=clip(_role_label(r), 75)) for r in roles[:100]])),
                    InputBlock(block_id=Field.USER, label="Person", element=UserSelectElement(
                        action_id=Field.USER, placeholder="Pick a person")),
                ])


def remove_item_modal(launch: Launch, items: list[Item], gates: list[Gate], *, private_metadata: str) -> View:
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=clip(
            f"Remove an open item from *{launch.key} · {esc(launch.name)}*. The reason and the item as it was "
            "stay on the record; its owner's prompt is updated."))),
        item_picker(items, gates, label="Open item", placeholder="Pick an item"),
        InputBlock(block_id=Field.REASON, label="Reason", element=PlainTextInputElement(
            action_id=Field.REASON, multiline=True, max_length=REASON_MAX)),
    ]
    return View(type="modal", callback_id=Callback.ITEM_REMOVE, title="Remove item", submit="Remove",
                close="Cancel", private_metadata=private_metadata, blocks=blocks)

