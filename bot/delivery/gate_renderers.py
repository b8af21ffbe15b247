"""Review messages and gate notices, rendered from the database at send time.

Every copy of a review (one per approver, one in the launch channel) is a
remembered message, so votes and the outcome update it in place and no stale
decision button survives a decision.
"""
from __future__ import annotations

from sqlmodel import Session, select

from bot.blocks import gate_views, launch_views
from bot.codecs import ReviewPayload
from bot.services import capacity, gates, links
from bot.services.context import AppContext
from bot.services.gates import GateKind
from bot.services.outbox import Kind
from models import Gate, GateDecision, Item, Launch, OutboxMessage, OutboxStatus, SlackMessageRef

from .renderers import Defer, Message, launch_channel, target, user_tz


def _posted(session: Session, purpose: str) -> bool:
    return session.exec(select(SlackMessageRef.id).where(SlackMessageRef.purpose == purpose)).first() is not None


def _still_queued(session: Session, purpose: str) -> bool:
    row = session.exec(select(OutboxMessage.status).where(OutboxMessage.dedupe_key == purpose)).first()
    return row == OutboxStatus.PENDING


def render_review(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    payload = ReviewPayload.load(row.payload)
    gate_id, round_, to = payload.gate, payload.round, payload.to
    purpose = gates.review_purpose(gate_id, round_, to)
    if row.kind == Kind.REVIEW_REFRESH and not _posted(session, purpose):
        if _still_queued(session, purpose):
            raise Defer(5, "review message not posted yet")  # update it once it exists
        return None
    review = gates.review(session, gate_id, round_)
    if review is None or (row.kind == Kind.REVIEW and review.state == "withdrawn"):
        return None
    if review.state == "open":
        warned = links.warnings(session, review.launch.id, ctx.now())
        for part in review.gates:
            for snap in part.items:
                snap["link_warnings"] = warned.get(snap["id"])
    channel = launch_channel(session, row) if to == gates.CHANNEL else to
    tz = None if to == gates.CHANNEL else user_tz(session, to)
    text, blocks = gate_views.review_message(review, to, tz, capacity.verdict_for(session, review.launch, ctx.settings))
    return Message(channel=channel, text=text, blocks=blocks, purpose=purpose)


def _notice(session: Session, row: OutboxMessage, tz: str | None) -> str:
    p = row.payload
    launch = session.get(Launch, row.launch_id)
    decision = session.get(GateDecision, p["decision"]) if p.get("decision") else None
    item = session.get(Item, p["item"]) if p.get("item") else None
    gate_id = decision.gate_id if decision else item.gate_id if item else None
    gate = session.get(Gate, gate_id) if gate_id else None
    return gate_views.notice_text(p["what"], launch, gate=gate, decision=decision, item=item, by=p.get("by"),
                                  reason=p.get("reason"), tz=tz)


def render_gate_notice(session: Session, row: OutboxMessage, ctx: AppContext) -> Message:
    channel = target(session, row)
    text = _notice(session, row, user_tz(session, channel) if channel.startswith(("U", "W")) else None)
    return Message(channel=channel, text=text, blocks=launch_views.notice(text))


def render_launches_notice(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    channel = ctx.settings.launches_channel
    launch = session.get(Launch, row.launch_id)
    if not channel or launch is None or launch.private:  # a private launch is never announced
        return None
    text = _notice(session, row, None)
    return Message(channel=channel, text=text, blocks=launch_views.notice(text))
