"""Checklist templates: one YAML file per launch kind, validated by pydantic.

Validation walks gate by gate and item by item so that one run reports every
fault with its file, item and reason, not just the first one pydantic meets.
The format is documented in docs/checklists.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.config_faults import Fault, FaultsError

from .textfiles import NotUtf8, read_utf8

# libyaml's loader when PyYAML has it (5–10× faster; same safe subset), the pure-Python one otherwise
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LAUNCH_KINDS = ("product", "market", "campaign")
ROLES = (
    "product_manager", "readiness_lead", "wfm", "marketing", "content", "knowledge", "training",
    "vendor_management",
)
ANSWER_KINDS = ("confirm", "number", "forecast", "capacity_plan", "accuracy", "link", "market_links", "text",
                "choice")
SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"

Role = Literal[ROLES]  # type: ignore[valid-type]
Slug = Annotated[str, Field(pattern=SLUG)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Conditions(_Strict):
    """An item applies only when every given condition holds for the launch."""

    markets: list[str] = []
    not_markets: list[str] = []
    min_markets: int | None = Field(default=None, ge=1)

    @field_validator("markets", "not_markets")
    @classmethod
    def _iso(cls, v: list[str]) -> list[str]:
        codes = [str(c).upper() for c in v]
        unknown = [c for c in codes if pycountry.countries.get(alpha_2=c) is None]
        if unknown:
            raise ValueError(f"unknown market(s) {', '.join(unknown)}; use ISO 3166 codes like FR")
        return codes

    def applies(self, markets: list[str]) -> bool:
        chosen = set(markets)
        if self.markets and not chosen & set(self.markets):
            return False
        if chosen & set(self.not_markets):
            return False
        return self.min_markets is None or len(chosen) >= self.min_markets


class PageDate(_Strict):
    """Where an evidence page says when it was last updated (read from the first LINKCHECK_MAX_BYTES)."""

    meta: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_:.-]+$")  # <meta> name/property
    json_key: str | None = Field(default=None, alias="json", max_length=100,
                                 pattern=r"^[A-Za-z0-9_.-]+$")   # a JSON key, e.g. updated_at

    @model_validator(mode="after")
    def _one(self) -> PageDate:
        if (self.meta is None) == (self.json_key is None):
            raise ValueError("give exactly one of meta (a <meta> tag's name) or json (a JSON key)")
        return self

    def rule(self) -> str:
        """Stored on the item: `meta:article:modified_time` or `json:updated_at`."""
        return f"meta:{self.meta}" if self.meta else f"json:{self.json_key}"


class ItemTemplate(_Strict):
    id: Slug
    question: str = Field(min_length=3, max_length=200)
    action: str = Field(min_length=3, max_length=600)
    link: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")
    why: str = Field(min_length=3, max_length=400)
    owner_role: Role = Field(alias="owner")
    answer: Literal[ANSWER_KINDS] = "confirm"  # type: ignore[valid-type]
    required: bool = True
    due: int | None = None
    opens: int | None = None   # business days from the launch date; not answerable before (default: its gate's)
    min: float | None = None
    max: float | None = None
    unit: str | None = Field(default=None, max_length=32)
    choices: list[Annotated[str, Field(min_length=1, max_length=75)]] | None = None
    when: Conditions | None = None
    url_pattern: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")
    updated: bool = False
    updated_date: PageDate | None = None   # implies `updated`

    @field_validator("url_pattern")
    @classmethod
    def _placeholders(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if "{market}" not in v and "{lang}" not in v:
            raise ValueError("url_pattern needs {market} or {lang}")
        leftover = v.replace("{market}", "").replace("{lang}", "")
        if "{" in leftover or "}" in leftover:
            raise ValueError("url_pattern knows only {market} and {lang}")
        return v

    @model_validator(mode="after")
    def _answer_specific_keys(self) -> ItemTemplate:
        if self.answer != "number" and (self.min is not None or self.max is not None or self.unit):
            raise ValueError("min, max and unit only go with answer: number")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        if self.answer == "choice":
            if not self.choices or not 2 <= len(self.choices) <= 10:
                raise ValueError("answer: choice needs 2 to 10 choices")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError("choices repeat themselves")
        elif self.choices is not None:
            raise ValueError("choices only go with answer: choice")
        return self


class GateTemplate(_Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=60)
    offset_business_days: int = Field(alias="offset")
    description: str = Field(default="", max_length=400)
    approver_role: Role = "readiness_lead"
    quorum: Literal["any", "all"] | Annotated[int, Field(ge=1, le=20)] = "any"
    fast_path: bool = False
    allow_self_approval: bool = False
    opens: int | None = None   # business days from the launch date: no answers or decision before
    items: list[ItemTemplate] = []

    def item_due_offset(self, item: ItemTemplate) -> int:
        return self.offset_business_days if item.due is None else item.due

    def item_opens_offset(self, item: ItemTemplate) -> int | None:
        return self.opens if item.opens is None else item.opens


class ReminderOverrides(_Strict):
    first_nudge_days: int | None = Field(default=None, ge=0, le=30)
    escalate_after_days: int | None = Field(default=None, ge=0, le=30)
    escalate_owner_after_days: int | None = Field(default=None, ge=0, le=60)


class ChecklistTemplate(_Strict):
    kind: Literal[LAUNCH_KINDS]  # type: ignore[valid-type]
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=600)
    reminders: ReminderOverrides = ReminderOverrides()
    gates: list[GateTemplate]

    @property
    def first_gate_offset(self) -> int:
        return self.gates[0].offset_business_days

    def gate(self, gate_id: str) -> GateTemplate | None:
        return next((g for g in self.gates if g.id == gate_id), None)

    def items_for(self, kind: str, markets: list[str]) -> list[tuple[GateTemplate, ItemTemplate]]:
        """The (gate, item) pairs that apply to a launch in `markets`."""
        return [
            (gate, item)
            for gate in self.gates
            for item in gate.items
            if item.when is None or item.when.applies(markets)
        ]


class TemplateError(FaultsError):
    """The checklist templates cannot be used (every fault of every file listed)."""


def _messages(exc: ValidationError, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if str(p) not in skip]
        msg = err["msg"].removeprefix("Value error, ")
        out.append((".".join(loc), msg))
    return out


def _fault_list(path: Path, where: str, exc: ValidationError, skip=()) -> list[Fault]:
    return [Fault(path.name, f"{where}.{loc}" if loc else where, msg) for loc, msg in _messages(exc, skip)]


def _check_items(path: Path, gate_raw: dict, gate_where: str) -> tuple[list[ItemTemplate], list[Fault]]:
    items, faults = [], []
    raw_items = gate_raw.get("items") or []
    if not isinstance(raw_items, list):
        return [], [Fault(path.name, gate_where, "items must be a list")]
    for n, raw in enumerate(raw_items):
        where = f"item {raw.get('id')}" if isinstance(raw, dict) and raw.get("id") else f"{gate_where} item #{n + 1}"
        if not isinstance(raw, dict):
            faults.append(Fault(path.name, where, "an item must be a mapping of keys"))
            continue
        try:
            items.append(ItemTemplate.model_validate(raw))
        except ValidationError as exc:
            faults.extend(Fault(path.name, f"{where}: {loc}" if loc else where, msg)
                          for loc, msg in _messages(exc))
    return items, faults


def _cross_checks(path: Path, template: ChecklistTemplate) -> list[Fault]:
    faults: list[Fault] = []
    name = path.name

    def fault(item: str, reason: str) -> None:
        faults.append(Fault(name, item, reason))

    if path.stem != template.kind:
        fault("kind", f"kind '{template.kind}' does not match the file name (expected {path.stem}.yaml)")
    if not template.gates:
        fault("gates", "a template needs at least one gate")
        return faults
    if template.first_gate_offset >= 0:
        fault(f"gate {template.gates[0].id}", "the first gate must come before the launch date (negative offset)")
    if template.gates[-1].offset_business_days <= 0:
        fault("gates", "add a post-launch review gate after the launch date (positive offset)")
    seen_gates: set[str] = set()
    seen_items: set[str] = set()
    previous: GateTemplate | None = None
    for gate in template.gates:
        where = f"gate {gate.id}"
        if gate.id in seen_gates:
            fault(where, "gate id used twice")
        seen_gates.add(gate.id)
        if previous and gate.offset_business_days <= previous.offset_business_days:
            fault(where, f"offset {gate.offset_business_days} must be after the previous gate's "
                         f"({previous.offset_business_days})")
        if not gate.items:
            fault(where, "a gate needs at least one item")
        if gate.fast_path and previous is None:
            fault(where, "the first gate cannot be a fast path (there is no previous gate)")
        if gate.opens is not None and gate.opens > gate.offset_business_days:
            fault(where, f"opens {gate.opens} is after the gate is due ({gate.offset_business_days})")
        for item in gate.items:
            iwhere = f"item {item.id}"
            if item.id in seen_items:
                fault(iwhere, "item id used twice")
            seen_items.add(item.id)
            due = gate.item_due_offset(item)
            if due > gate.offset_business_days:
                fault(iwhere, f"due {due} is after its gate ({gate.id} at {gate.offset_business_days})")
            opens = gate.item_opens_offset(item)
            if opens is not None and opens > due:
                fault(iwhere, f"opens {opens} is after the item is due ({due})")
            low = previous.offset_business_days if previous else gate.offset_business_days - 1
            if due <= low:
                bound = f"previous gate ({previous.id} at {low})" if previous else f"first gate ({gate.offset_business_days})"
                fault(iwhere, f"due {due} is not after the {bound}")
        previous = gate
    return faults


def parse_template(path: Path) -> tuple[ChecklistTemplate | None, list[Fault]]:
    """Validate one file; returns the template (if usable) and every fault found."""
    try:
        raw = yaml.load(read_utf8(path), Loader=SAFE_LOADER)
    except NotUtf8 as exc:
        return None, [Fault(path.name, "file", str(exc))]
    except yaml.YAMLError as exc:
        return None, [Fault(path.name, "file", f"not valid YAML: {exc}".replace("\n", " "))]
    if not isinstance(raw, dict):
        return None, [Fault(path.name, "file", "expected a mapping with kind, version, name and gates")]
    faults: list[Fault] = []
    gates_raw = raw.get("gates")
    if not isinstance(gates_raw, list):
        return None, [Fault(path.name, "gates", "gates must be a list of gates")]
    gates: list[Any] = []
    for n, gate_raw in enumerate(gates_raw):
        where = f"gate {gate_raw.get('id')}" if isinstance(gate_raw, dict) and gate_raw.get("id") else f"gate #{n + 1}"
        if not isinstance(gate_raw, dict):
            faults.append(Fault(path.name, where, "a gate must be a mapping of keys"))
            continue
        items, item_faults = _check_items(path, gate_raw, where)
        faults.extend(item_faults)
        try:
            gates.append(GateTemplate.model_validate({**gate_raw, "items": []}).model_copy(update={"items": items}))
        except ValidationError as exc:
            faults.extend(_fault_list(path, where, exc))
    try:
        template = ChecklistTemplate.model_validate({**raw, "gates": []}).model_copy(update={"gates": gates})
    except ValidationError as exc:
        faults.extend(Fault(path.name, loc or "file", msg) for loc, msg in _messages(exc))
        return None, faults
    faults.extend(_cross_checks(path, template))
    return (None if faults else template), faults


def template_files(directory: str | Path) -> list[Path]:
    directory = Path(directory)
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def validate_directory(directory: str | Path, parsed: dict | None = None) -> list[Fault]:
    """Every fault of every file; `parsed` (path → template) collects the valid ones."""
    directory = Path(directory)
    if not directory.is_dir():
        return [Fault(str(directory), "directory", "not found (set CHECKLISTS_DIR)")]
    files = template_files(directory)
    if not files:
        return [Fault(str(directory), "directory", "holds no *.yaml templates")]
    faults: list[Fault] = []
    for path in files:
        template, found = parse_template(path)
        faults.extend(found)
        if parsed is not None and template is not None:
            parsed[path] = template
    return faults


def load_templates(directory: str | Path) -> dict[str, ChecklistTemplate]:
    """Every valid template by kind; raises TemplateError listing every fault. Each file is
    parsed once (a good part of `launchgate serve`'s start)."""
    parsed: dict[Path, ChecklistTemplate] = {}
    faults = validate_directory(directory, parsed)
    if faults:
        raise TemplateError(faults)
    return {template.kind: template for template in parsed.values()}
