"""`--scenario demo`: placeholder, filled in below."""
from __future__ import annotations


def run_scenario(sandbox, name: str) -> str:
    return f"scenario {name}: not available yet"
