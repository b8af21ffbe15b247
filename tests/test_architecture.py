"""The layering rules of docs/architecture.md, checked on the source (issue 9)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "models")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function (`from . import x` → pkg.x)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    return {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}


def test_services_import_nothing_from_slack_the_scheduler_or_the_delivery_layer():
    offenders = {}
    for path in (ROOT / "bot" / "services").rglob("*.py"):
        bad = sorted(i for i in _imports(path)
                     if i.split(".")[0] in ("slack_sdk", "slack_bolt")
                     or i.startswith(("bot.ticks", "bot.listeners", "bot.delivery", "bot.blocks", "bot.runtime")))
        if bad:
            offenders[path.name] = bad
    assert offenders == {}


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            # A package's __init__ importing its own submodules is not a cycle of meaning.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else path + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_every_outbox_kind_has_exactly_one_way_to_be_sent():
    from bot.delivery.registry import ACTIONS, RENDERERS
    from bot.services.gates import GateKind
    from bot.services.outbox import Kind

    kinds = {v for k, v in vars(Kind).items() if k.isupper()} | {v for k, v in vars(GateKind).items() if k.isupper()}
    assert kinds - set(RENDERERS) - ACTIONS == set()
    assert set(RENDERERS) & ACTIONS == set()
    assert set(RENDERERS) | ACTIONS <= kinds


def test_tick_steps_and_subcommands_are_written_out():
    from bot.listeners.commands import SUBCOMMANDS
    from bot.ticks import STEPS

    assert [s.__name__ for s in STEPS] == ["send_nudges", "send_escalations", "send_digests", "expire_waivers",
                                           "prune_outbox", "launch_day", "send_portfolio_digest", "pull_actuals",
                                           "send_actuals_prompts", "send_capacity_digest"]
    assert {"", "new", "list", "status", "help", "edit", "timeline", "resume", "waive", "unwaive",
            "hold", "cancel", "capacity", "forecasts"} <= set(SUBCOMMANDS)


def _session_hooks(path: Path) -> list[str]:
    """`listens_for(<a Session class>, "<event>")` calls in a file: hooks on every session."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "listens_for":
            target = node.args[0] if node.args else None
            name = getattr(target, "id", getattr(target, "attr", ""))
            if name.endswith("Session") or name == "sessionmaker":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_side_effects_are_derived_in_one_place():
    """Only bot/services/effects.py hooks into sessions: its DERIVED tuple is where side effects come from."""
    hooks = [h for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py")) for h in _session_hooks(p)]
    assert hooks and all(h.startswith("bot/services/effects.py:") for h in hooks), hooks
    from bot.services import effects

    assert {"capacity_checks", "refreshes", "link_checks", "webhooks"} <= {f.__name__ for f in effects.DERIVED}
    # Item state changes record what changed; the capacity re-check follows from it, not a call by hand.
    assert "bot.services.capacity" not in _imports(ROOT / "bot" / "services" / "item_state.py")


def test_home_is_published_only_by_the_outbox_worker():
    """Listeners queue a HOME_REFRESH row (bot.services.home.show); only the worker calls views.publish."""
    callers = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("*.py")
                     if "views_publish(" in p.read_text() and "sandbox" not in p.parts)
    assert callers == ["bot/delivery/home.py"]
    from_listeners = set().union(*(_imports(p) for p in (ROOT / "bot" / "listeners").glob("*.py")))
    assert "bot.delivery.home" not in from_listeners and "bot.delivery.worker" not in from_listeners
