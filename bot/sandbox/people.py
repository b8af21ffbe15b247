"""The sandbox's sample organisation: one person for every role, time zones spread across
markets, plus someone outside every role. The stakeholder directory is written from this list,
so who is shown as "WFM" on the page is who the bot resolves as WFM."""
from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Person:
    id: str
    name: str            # Slack handle
    real_name: str
    title: str           # what the persona switcher shows
    tz: str
    roles: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()   # per-market role holder (overrides the global one there)
    admin: bool = False


PEOPLE: tuple[Person, ...] = (
    Person("U0PRIYA01", "priya", "Priya Raman", "product manager", "Europe/London", ("product_manager",)),
    Person("U0TOMAS01", "tomas", "Tomás Ortega", "readiness lead", "Europe/Madrid", ("readiness_lead",),
           admin=True),
    Person("U0GRACE01", "grace", "Grace Kim", "readiness lead", "America/New_York", ("readiness_lead",)),
    Person("U0WEN0001", "wen", "Wen Zhao", "workforce management (WFM)", "Asia/Singapore", ("wfm",)),
    Person("U0MALIK01", "malik", "Malik Johnson", "marketing", "America/Chicago", ("marketing",)),
    Person("U0SOFIA01", "sofia", "Sofia Rossi", "content", "Europe/Rome", ("content",)),
    Person("U0CAMIL01", "camille", "Camille Martin", "content (France)", "Europe/Paris", ("content",),
           markets=("FR",)),
    Person("U0KENJI01", "kenji", "Kenji Sato", "knowledge base", "Asia/Tokyo", ("knowledge",)),
    Person("U0AMARA01", "amara", "Amara Okafor", "training", "Africa/Lagos", ("training",)),
    Person("U0LUCAS01", "lucas", "Lucas Silva", "vendor management", "America/Sao_Paulo", ("vendor_management",)),
    Person("U0ELLA001", "ella", "Ella Brown", "no launch role", "Australia/Sydney"),
)

PM = PEOPLE[0].id
# Who stands in while a role's holder is away (`/launch away until …`): the two leads for each other,
# Amara (training) for WFM and the knowledge base.
BACKUPS = {"readiness_lead": ["U0GRACE01", "U0TOMAS01"], "wfm": ["U0AMARA01"], "knowledge": ["U0AMARA01"]}
CHANNELS = (("general", "Company-wide announcements and chat"),
            ("launches", "One line per launch opened, decided or shipped"))
ANNOUNCEMENTS = "launches"


def by_id(user_id: str) -> Person | None:
    return next((p for p in PEOPLE if p.id == user_id), None)


def stakeholders_yaml() -> str:
    """STAKEHOLDERS_FILE for the sandbox's directory."""
    roles: dict[str, list[str]] = {}
    markets: dict[str, dict[str, list[str]]] = {}
    for person in PEOPLE:
        for role in person.roles:
            if role == "product_manager":
                continue  # whoever opens a launch owns it
            if person.markets:
                for market in person.markets:
                    markets.setdefault(market, {}).setdefault(role, []).append(person.id)
            else:
                roles.setdefault(role, []).append(person.id)
    spec = {"admins": [p.id for p in PEOPLE if p.admin], "roles": roles, "markets": markets, "backups": BACKUPS}
    return "# Written by `launchgate sandbox` from bot/sandbox/people.py\n" + yaml.safe_dump(spec, sort_keys=False)
