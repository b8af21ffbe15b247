"""Checklist templates: the shipped content is valid and complete; faults are reported
with file, item and reason; conditions pick items per market."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.services.templates import LAUNCH_KINDS, ROLES, load_templates, validate_directory

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "checklists"


@pytest.fixture(scope="module")
def templates():
    return load_templates(SHIPPED)


def test_shipped_templates_validate(capsys):
    assert main(["checklists", "validate", str(SHIPPED)]) == 0
    assert "all templates valid" in capsys.readouterr().out


def test_one_template_per_kind_with_a_version(templates):
    assert set(templates) == set(LAUNCH_KINDS)
    assert all(t.version >= 1 for t in templates.values())


@pytest.mark.parametrize("kind", LAUNCH_KINDS)
def test_gates_start_weeks_ahead_and_end_with_a_review(templates, kind):
    template = templates[kind]
    names = [g.name.lower() for g in template.gates]
    for needed in ("discovery", "planning", "readiness", "go", "post-launch"):
        assert any(needed in n for n in names), (kind, needed, names)
    assert template.first_gate_offset <= -15  # readiness starts at discovery, weeks ahead
    assert template.gates[-1].offset_business_days > 0


@pytest.mark.parametrize("kind", LAUNCH_KINDS)
def test_content_covers_what_customers_pay_for(templates, kind):
    items = [item for gate in templates[kind].gates for item in gate.items]
    owners = {item.owner_role for item in items}
    assert {"wfm", "marketing", "content", "knowledge", "training", "vendor_management"} <= owners
    assert any(i.answer == "forecast" and i.owner_role == "marketing" for i in items)
    text = " ".join(f"{i.question} {i.action} {i.why}".lower() for i in items)
    for topic in ("forecast", "capacity", "partner", "macro", "language", "article", "training",
                  "escalation", "process map", "monitor", "accuracy"):
        assert topic in text, (kind, topic)
    assert all(i.why and i.action and i.question for i in items)
    assert all(i.owner_role in ROLES for i in items)


def test_conditions_select_items_per_market(templates):
    template = templates["market"]
    conditional = [(g, i) for g in template.gates for i in g.items if i.when is not None]
    assert conditional, "the market template should hold market-specific items"
    gate, item = conditional[0]
    everything = {i.id for _, i in template.items_for("market", ["FR", "DE", "US", "JP"])}
    one = {i.id for _, i in template.items_for("market", ["US"])}
    assert one < everything


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "checklists"
    shutil.copytree(SHIPPED, target)
    return target


def test_every_fault_is_reported_with_file_item_and_reason(tmp_path, capsys):
    target = _copy(tmp_path)
    data = yaml.safe_load((target / "campaign.yaml").read_text())
    first, second = data["gates"][0]["items"][0], data["gates"][1]["items"][0]
    first["owner"] = "wizard"
    second["answer"] = "telepathy"
    second_id = second["id"]
    data["gates"][1]["items"].append(dict(first, id=data["gates"][1]["items"][1]["id"], owner="wfm"))
    (target / "campaign.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (target / "product.yaml").write_text("kind: product\nversion: 0\ngates: [\n")

    assert main(["checklists", "validate", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"campaign.yaml: item {first['id']}: owner" in err and "wizard" not in err.split("owner", 1)[0]
    assert f"campaign.yaml: item {second_id}: answer" in err
    assert "item id used twice" in err
    assert "product.yaml: file: not valid YAML" in err
    assert "problem(s)" in err


def test_offsets_and_due_dates_are_checked(tmp_path):
    target = _copy(tmp_path)
    data = yaml.safe_load((target / "product.yaml").read_text())
    data["gates"][1]["offset"] = data["gates"][0]["offset"] - 1
    data["gates"][2]["items"][0]["due"] = data["gates"][2]["offset"] + 1
    data["kind"] = "market"
    (target / "product.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    faults = [str(f) for f in validate_directory(target) if f.file == "product.yaml"]
    assert any("must be after the previous gate" in f for f in faults)
    assert any(f"item {data['gates'][2]['items'][0]['id']}: due" in f for f in faults)
    assert any("does not match the file name" in f for f in faults)


def test_missing_directory_is_a_clear_fault(tmp_path, capsys):
    assert main(["checklists", "validate", str(tmp_path / "nope")]) == 1
    assert "not found" in capsys.readouterr().err
