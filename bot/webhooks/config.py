"""webhooks.yaml: where events go, which ones, and the secrets that sign them.

    endpoints:
      - id: change-management            # slug; dead letters and pauses are per endpoint
        url: https://change.example.com/hooks/launchgate
        events: [launch.opened, gate.decided]   # or ["*"]
        secrets: [env:LG_WEBHOOK_CM_SECRET]     # whsec_… values or env:NAME; two during a rotation
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from standardwebhooks import Webhook

EVENT_TYPES = (
    "launch.opened", "launch.date_changed", "launch.held", "launch.resumed", "launch.cancelled", "launch.launched",
    "gate.review_opened", "gate.decided", "waiver.granted", "waiver.revoked", "waiver.expired", "item.overdue",
    "item.answered", "evidence.link_broken", "capacity.gap", "capacity.gap_closed", "ping",
)


class WebhookConfigError(Exception):
    """One line naming the file, the endpoint and what is wrong (never a secret)."""


def resolve_secret(value: str) -> str:
    if value.startswith("env:"):
        name = value[4:]
        found = os.environ.get(name)
        if not found:
            raise ValueError(f"environment variable {name} is not set")
        return found.strip()
    return value.strip()


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500)]
    events: list[str] = ["*"]
    secrets: Annotated[list[str], Field(min_length=1, max_length=2, repr=False)]
    enabled: bool = True

    @field_validator("events")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = [e for e in v if e != "*" and e not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
        return v

    @field_validator("secrets")
    @classmethod
    def _signing_keys(cls, v: list[str]) -> list[str]:
        resolved = [resolve_secret(s) for s in v]
        for secret in resolved:
            if not secret.startswith("whsec_"):
                raise ValueError("a secret must start with whsec_ (Standard Webhooks format)")
            try:
                Webhook(secret)
            except Exception:
                raise ValueError("a secret must be whsec_ followed by base64") from None
        return resolved

    def wants(self, event_type: str) -> bool:
        return self.enabled and ("*" in self.events or event_type in self.events)


class WebhooksFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoints: list[Endpoint] = []


def load_endpoints(path: str | Path | None) -> list[Endpoint]:
    """The endpoints in `path`; a missing file means no webhooks."""
    if not path:
        return []
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text()) or {}
        endpoints = WebhooksFile.model_validate(data).endpoints
    except yaml.YAMLError:
        raise WebhookConfigError(f"{path.name}: not valid YAML") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise WebhookConfigError(f"{path.name}: {where}: {err['msg']}") from None
    ids = [e.id for e in endpoints]
    if len(set(ids)) != len(ids):
        raise WebhookConfigError(f"{path.name}: endpoint ids must be unique")
    return endpoints
