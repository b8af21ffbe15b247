"""Gate review messages, the decision and waiver modals, and gate notices.

A review message has three lives: open (items, answers, decision buttons),
decided (the outcome, who and when, the items as they were) and withdrawn
(an item was reopened). The same builder renders all three, so a stale copy
is always replaced by the outcome instead of keeping live buttons.
"""
from __future__ import annotations

from bot.codecs import ItemAction, VoteValue

from datetime import date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.services.decisions import MAX_CONDITIONS, REASON_MAX
from bot.services.gates import Review
from bot.services.readable import OUTCOME_ICONS, answer_text, outcome_label
from models import Gate, GateDecision, Item, ItemState, Launch, Outcome

from .ids import Action, Callback, Field
from .launch_views import ITEM_ICONS
from .text import clip, clip_links, day, esc, link, user, when

MAX_BLOCKS = 50
MAX_WAIVE_BUTTONS = 6
DECIDE = [
    (Outcome.GO, "Go", "primary"),
    (Outcome.GO_WITH_CONDITIONS, "Go with conditions…", None),
    (Outcome.HOLD, "Hold…", None),
    (Outcome.RECYCLE, "Recycle…", None),
    (Outcome.KILL, "Kill…", "danger"),
]
MODAL_TITLES = {Outcome.GO_WITH_CONDITIONS: ("Go with conditions", "Record decision"),
                Outcome.HOLD: ("Hold", "Put on hold"), Outcome.RECYCLE: ("Recycle", "Send back"),
                Outcome.KILL: ("Kill launch", "Kill launch")}


def condition_ids(n: int) -> tuple[str, str, str]:
    """Block ids of condition slot `n` (the decision service reports errors under these)."""
    return f"condition_{n}", f"condition_{n}_owner", f"condition_{n}_due"


def decide_action_id(outcome: str) -> str:
    return f"{Action.GATE_DECIDE}:{outcome}"


def decide_buttons(gate: Gate, round_: int, block_id: str) -> ActionsBlock:
    value = VoteValue(gate=gate.id, round=round_).encode()
    buttons = []
    for outcome, label, style in DECIDE:
        kwargs = {"style": style} if style else {}
        if outcome == Outcome.GO:
            kwargs["confirm"] = ConfirmObject(
                title="Vote Go?", confirm="Go", deny="Cancel",
                text=clip(f"Your Go vote on {gate.name} is recorded with your name and the time.", 300))
        buttons.append(ButtonElement(text=label, action_id=decide_action_id(outcome), value=value, **kwargs))
    return ActionsBlock(block_id=block_id, elements=buttons)


# -- review message ------------------------------------------------------------------------

def _answer(snap: dict) -> str:
    answer = snap.get("answer")
    if snap.get("state") == ItemState.DONE and snap.get("answer_kind") == "link" and isinstance(answer, str):
        return link(answer, clip(answer, 100))
    if snap.get("state") == ItemState.DONE and snap.get("answer_kind") == "market_links" and isinstance(answer, dict):
        return clip_links(answer)
    return esc(clip(answer_text(snap), 400))


def item_line(snap: dict, tz: str | None) -> str:
    line = f"{ITEM_ICONS.get(snap['state'], '')} *{esc(clip(snap['question'], 300))}* — {user(snap['owner'])}"
    if not snap.get("required", True):
        line += " · _optional_"
    if snap.get("condition_of"):
        line += " · _condition_"
    answer = _answer(snap)
    waiver = snap.get("waiver")
    if waiver:
        expires = waiver.get("expires_at")
        until = f", expires {when(datetime.fromisoformat(expires), tz)}" if expires else ""
        line += f"\n→ waived by {user(waiver.get('by'))}{until}: {esc(clip(waiver.get('reason') or '', 300))}"
    elif answer:
        line += f"\n→ {answer}"
    if snap.get("evidence"):
        line += f" · {link(snap['evidence'], 'evidence')}"
    for warning in (snap.get("link_warnings") or [])[:3]:
        line += f"\n⚠️ {esc(clip(warning, 300))}"
    return line


def _chunks(lines: list[str], limit: int = 2900) -> list[str]:
    chunks, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else clip(line, limit)
    return chunks + ([current] if current else [])


def _items_blocks(part_items: list[dict], tz: str | None, waive: bool, budget: int) -> list:
    blocks: list = []
    unsettled = [s for s in part_items if s["state"] in (ItemState.OPEN, ItemState.BLOCKED)] if waive else []
    buttons = unsettled[:MAX_WAIVE_BUTTONS]
    rest = [s for s in part_items if s not in buttons]
    for text in _chunks([item_line(s, tz) for s in rest]):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    for snap in buttons:
        blocks.append(SectionBlock(
            block_id=f"waive-{snap['id']}", text=MarkdownTextObject(text=clip(item_line(snap, tz))),
            accessory=ButtonElement(text="Waive…", action_id=Action.ITEM_WAIVE, value=ItemAction(item=snap["id"]).button_value())))
    if len(blocks) > budget:
        blocks = blocks[: max(budget - 1, 0)] + [ContextBlock(elements=[MarkdownTextObject(
            text="…more items: see `/launch status`")])]
    return blocks


def _voters(decision: GateDecision) -> str:
    deciding = [v for v in decision.votes if v["outcome"] == decision.outcome] or decision.votes
    if decision.outcome in (Outcome.GO, Outcome.GO_WITH_CONDITIONS):
        deciding = [v for v in decision.votes if v["outcome"] in (Outcome.GO, Outcome.GO_WITH_CONDITIONS)]
    return ", ".join(user(v["voter"]) for v in deciding) or "launchgate"


def outcome_text(decision: GateDecision, launch: Launch, tz: str | None) -> str:
    lines = [f"{OUTCOME_ICONS.get(decision.outcome, '')} *{outcome_label(decision.outcome)}* — decided by "
             f"{_voters(decision)} · {when(decision.decided_at, tz)}"]
    if decision.reason:
        lines.append(f"*Reason:* {esc(clip(decision.reason, 1200))}")
    for cond in decision.conditions or []:
        lines.append(f"• Condition: {esc(clip(cond.get('text') or '', 300))} — {user(cond.get('owner'))}, "
                     f"due {cond.get('due')}")
    if decision.outcome == Outcome.HOLD:
        lines.append(f"Prompts are paused until the owner or a readiness lead runs `/launch resume {launch.key}`.")
    if decision.outcome == Outcome.KILL:
        lines.append(f"{launch.key} is cancelled.")
    return clip("\n".join(lines))


def _tally(review: Review) -> str:
    votes = " · ".join(f"{user(v.voter_id)} {outcome_label(v.outcome)}" for v in review.votes)
    quorum = f"Needs {review.needed} Go vote{'s' if review.needed != 1 else ''} from " \
             f"{', '.join(user(u) for u in review.approvers[:10]) or 'the approvers'}"
    return clip(f"{quorum}." + (f" Votes so far: {votes}" if votes else ""), 3000)


def review_message(review: Review, viewer: str, tz: str | None, capacity: str | None = None) -> tuple[str, list]:
    """`viewer` is an approver's user id, or "channel" for the launch channel's copy; `capacity` the one-line
    capacity verdict (services.capacity.verdict_for)."""
    launch, lead = review.launch, review.lead
    blocks: list = [
        HeaderBlock(text=clip(f"Review: {lead.name}", 150)),
        ContextBlock(elements=[MarkdownTextObject(text=clip(
            f"*{launch.key} · {esc(launch.name)}* · round {review.round} · gate due {day(lead.due_at, tz)} · "
            f"launch {day(launch.launch_date)} · owner {user(launch.owner_id)}"))]),
    ]
    if capacity:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(esc(capacity)))))
    if len(review.gates) > 1:
        others = ", ".join(f"*{esc(p.gate.name)}*" for p in review.gates[1:])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(
            f"⚡ Fast path: this decision also decides {others}."))))
    tail = _tail(review, viewer, tz)
    budget = MAX_BLOCKS - len(blocks) - len(tail) - 2 * len(review.gates)
    for part in review.gates:
        blocks.append(DividerBlock())
        required = [s for s in part.items if s.get("required", True)]
        done = sum(s["state"] in (ItemState.DONE, ItemState.NA, ItemState.WAIVED) for s in required)
        blocked = sum(s["state"] == ItemState.BLOCKED for s in part.items)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(
            f"*{esc(part.gate.name)}* · {done}/{len(required)} required items answered or waived"
            + (f" · ⛔ {blocked} blocked" if blocked else "")))))
        part_blocks = _items_blocks(part.items, tz, review.state == "open", max(budget // len(review.gates), 2))
        blocks += part_blocks
    blocks += tail
    text = f"{launch.key} {esc(launch.name)}: review {esc(lead.name)}"
    if review.state == "decided":
        text += f" — {outcome_label(review.decision.outcome)}"
    return text, blocks[:MAX_BLOCKS]


def _tail(review: Review, viewer: str, tz: str | None) -> list:
    if review.state == "decided":
        return [DividerBlock(), SectionBlock(text=MarkdownTextObject(
            text=outcome_text(review.decision, review.launch, tz)))]
    if review.state == "withdrawn":
        return [DividerBlock(), SectionBlock(text=MarkdownTextObject(text=clip(
            f"↩️ *Review withdrawn* — an item of {esc(review.lead.name)} was reopened, so it is collecting answers "
            "again. A new review comes when every required item is answered or waived.")))]
    tail: list = [DividerBlock(), ContextBlock(elements=[MarkdownTextObject(text=_tally(review))])]
    mine = review.vote_of(viewer)
    if mine is not None:
        left = max(review.needed - review.go_votes, 0)
        tail.append(SectionBlock(text=MarkdownTextObject(text=clip(
            f"You voted *{outcome_label(mine.outcome)}* · {when(mine.at, tz)}. "
            + (f"Waiting for {left} more Go vote{'s' if left != 1 else ''}." if left else "")))))
    else:
        tail.append(decide_buttons(review.lead, review.round, f"decide-{review.lead.id}-{review.round}"))
    return tail


# -- modals --------------------------------------------------------------------------------

def decision_modal(outcome: str, gate: Gate, launch: Launch, round_: int, items: list[Item], *,
                   private_metadata: str, today: date) -> View:
    title, submit = MODAL_TITLES[Outcome(outcome)]
    blocks: list = [SectionBlock(text=MarkdownTextObject(text=clip(
        f"*{outcome_label(outcome)}* on *{esc(gate.name)}* · {launch.key} · {esc(launch.name)}")))]
    if outcome == Outcome.KILL:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="Kill cancels the launch for good: every prompt stops and it is announced.")]))
    if outcome == Outcome.HOLD:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"Hold pauses every prompt until the owner or a readiness lead runs `/launch resume {launch.key}`.")]))
    blocks.append(InputBlock(
        block_id=Field.REASON, label="Reason",
        hint="Recorded with the decision; everyone on the launch sees it.",
        element=PlainTextInputElement(action_id=Field.REASON, multiline=True, max_length=REASON_MAX)))
    if outcome == Outcome.RECYCLE:
        blocks.append(InputBlock(
            block_id=Field.REOPEN, label="Items to send back",
            hint="Their owners are told why and asked again.",
            element=StaticMultiSelectElement(action_id=Field.REOPEN, placeholder="Pick items",
                                             options=[Option(value=str(i.id), text=clip(i.question, 75))
                                                      for i in items[:100]])))
    if outcome == Outcome.GO_WITH_CONDITIONS:
        for n in range(1, MAX_CONDITIONS + 1):
            text_id, owner_id, due_id = condition_ids(n)
            optional = n > 1
            blocks += [
                InputBlock(block_id=text_id, label=f"Condition {n}", optional=optional,
                           element=PlainTextInputElement(action_id=text_id, max_length=300,
                                                         placeholder="What must be done")),
                InputBlock(block_id=owner_id, label="Owner", optional=optional,
                           element=UserSelectElement(action_id=owner_id, placeholder="Who does it")),
                InputBlock(block_id=due_id, label="Due", optional=optional,
                           element=DatePickerElement(action_id=due_id)),
            ]
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="Each condition becomes a tracked item of the next gate, with reminders to its owner.")]))
    return View(type="modal", callback_id=Callback.GATE_DECISION, title=title, submit=submit, close="Cancel",
                private_metadata=private_metadata, blocks=blocks)


def item_picker(items: list[Item], gates: list[Gate], *, label: str, placeholder: str) -> InputBlock:
    """A select of items grouped under their gate's name (Slack's cap: 100 options)."""
    names = {g.id: g.name for g in gates}
    groups: dict[int, list[Option]] = {}
    for item in items[:100]:
        groups.setdefault(item.gate_id, []).append(Option(value=str(item.id), text=clip(item.question, 75)))
    return InputBlock(block_id=Field.ITEM, label=label, element=StaticSelectElement(
        action_id=Field.ITEM, placeholder=placeholder, option_groups=[
            OptionGroup(label=clip(names.get(gid, "Gate"), 75), options=opts) for gid, opts in groups.items()]))


def waive_modal(launch: Launch, items: list[Item], gates: list[Gate], *, private_metadata: str,
                fixed: Item | None = None) -> View:
    blocks: list = [SectionBlock(text=MarkdownTextObject(text=clip(
        f"Waive an item of *{launch.key} · {esc(launch.name)}*. A waived item counts as answered for its gate.")))]
    if fixed is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(
            f"*{esc(fixed.question)}* — {user(fixed.owner_id)} · {fixed.state}"))))
    else:
        blocks.append(item_picker(items, gates, label="Item", placeholder="Pick an open item"))
    blocks += [
        InputBlock(block_id=Field.REASON, label="Reason", hint="Recorded and shown to the item's owner.",
                   element=PlainTextInputElement(action_id=Field.REASON, multiline=True, max_length=1000)),
        InputBlock(block_id=Field.EXPIRES, label="Waived until", optional=True,
                   hint="Leave empty for a waiver that does not expire. After this day the item reopens.",
                   element=DatePickerElement(action_id=Field.EXPIRES)),
    ]
    return View(type="modal", callback_id=Callback.ITEM_WAIVE, title="Waive item", submit="Waive", close="Cancel",
                private_metadata=private_metadata, blocks=blocks)


def unwaive_modal(launch: Launch, items: list[Item], gates: list[Gate], *, private_metadata: str) -> View:
    """Pick a waived item and say why the waiver is taken back."""
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=clip(
            f"Take back a waiver on *{launch.key} · {esc(launch.name)}*. The item opens again and its owner is "
            "told why; a gate in review waits for it again."))),
        item_picker(items, gates, label="Waived item", placeholder="Pick a waived item"),
        InputBlock(block_id=Field.REASON, label="Reason", hint="Recorded and shown to the item's owner.",
                   element=PlainTextInputElement(action_id=Field.REASON, multiline=True, max_length=1000)),
    ]
    return View(type="modal", callback_id=Callback.ITEM_UNWAIVE, title="Revoke waiver", submit="Revoke",
                close="Cancel", private_metadata=private_metadata, blocks=blocks)


def notice_modal(title: str, text: str) -> View:
    """A read-only modal for answers to clicks on the Home tab (no channel to answer in)."""
    return View(type="modal", title=clip(title, 24), close="OK",
                blocks=[SectionBlock(text=MarkdownTextObject(text=clip(text)))])


# -- notices -------------------------------------------------------------------------------

def notice_text(what: str, launch: Launch, *, gate: Gate | None = None, decision: GateDecision | None = None,
                item: Item | None = None, by: str | None = None, reason: str | None = None,
                tz: str | None = None) -> str:
    title = f"*{launch.key} · {esc(launch.name)}*"
    question = f"*{esc(clip(item.question, 300))}*" if item else ""
    if what == "decided" and decision is not None:
        return clip(f"{title} · *{esc(gate.name)}*\n" + outcome_text(decision, launch, tz))
    if what == "cancelled":
        said = decision.reason if decision else reason
        why = f": {esc(clip(said, 1000))}" if said else ""
        at = f" at {esc(gate.name)} (Kill by {_voters(decision)})" if gate and decision else ""
        who = f" by {user(by)}" if by and not decision else ""
        return clip(f"🛑 {title} was cancelled{who}{at}{why}. Every prompt has stopped.")
    if what == "held":
        why = f": {esc(clip(reason, 1000))}" if reason else ""
        return clip(f"⏸️ {user(by)} put {title} on hold{why}. Prompts and reminders are paused until "
                    f"`/launch resume {launch.key}`.")
    if what == "launched":
        return clip(f"🚀 {title} is launched: every gate passed. Thank you all.")
    if what == "resumed":
        return clip(f"▶️ {user(by)} resumed {title}; prompts start again.")
    if what == "recycled" and item is not None:
        why = f": {esc(clip(decision.reason, 1000))}" if decision and decision.reason else ""
        voter = user(decision.votes[-1]["voter"]) if decision and decision.votes else "A readiness lead"
        return clip(f"↩️ {voter} sent back {question} ({title}, {esc(gate.name) if gate else 'review'}){why}.\n"
                    f"It is open again — please update it by {day(item.due_at, tz)}.")
    if what == "condition" and item is not None:
        passed = esc(gate.name) if gate else "A gate"
        return clip(f"☑️ {passed} on {title} passed on a condition you own: {question}, due {day(item.due_at, tz)}. "
                    "It is in your checklist; mark it done when it is.")
    if what == "waived" and item is not None:
        until = f" (expires {when(item.waiver_expires_at, tz)})" if item.waiver_expires_at else ""
        return clip(f"🟰 {user(item.waived_by)} waived {question} on {title}{until}: "
                    f"{esc(clip(item.waiver_reason or '', 1000))}. Nothing more to do for now.")
    if what == "waiver_expired" and item is not None:
        why = f" (waived by {user(by)}: {esc(clip(reason or '', 500))})" if by else ""
        return clip(f"⏰ The waiver on {question} ({title}) has expired{why}. It is open again — "
                    f"please answer it by {day(item.due_at, tz)}.")
    if what == "waiver_revoked" and item is not None:
        return clip(f"↩️ {user(by)} took back the waiver on {question} ({title}): {esc(clip(reason or '', 1000))}. "
                    f"It is open again — please answer it by {day(item.due_at, tz)}.")
    if what == "link_broken" and item is not None:
        return clip(f"↩️ Your answer to {question} ({title}) was sent back: its evidence link no longer works — "
                    f"{esc(clip(reason or '', 600))}. Fix the page or answer again with a working link by "
                    f"{day(item.due_at, tz)}.")
    return f"{title}: {esc(what)}"


def vote_reply(gate: Gate, outcome: str, decided: GateDecision | None, go_votes: int, needed: int) -> str:
    """What the voter is told right after voting (ephemeral)."""
    if decided is not None:
        return (f"{OUTCOME_ICONS.get(decided.outcome, '')} Recorded: *{esc(gate.name)}* is "
                f"*{outcome_label(decided.outcome)}*.")
    left = max(needed - go_votes, 0)
    return (f"Your *{outcome_label(outcome)}* vote on *{esc(gate.name)}* is recorded. {go_votes} of {needed} Go "
            f"votes so far; waiting for {left} more.")
