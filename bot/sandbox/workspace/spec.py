"""Which Web API methods exist, what they require, and which errors Slack documents.

The stand-in reads `web_api_index.json`, a compact index derived from Slack's
published OpenAPI spec (slackapi/slack-api-specs, MIT licence) so the tests
do not depend on files outside the repository. Regenerate it with:

    .venv/bin/python -m bot.sandbox.workspace.spec /work/shared/slack
"""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

INDEX = Path(__file__).with_name("web_api_index.json")

# Methods newer than the 2020 spec that the bot may call: add them here by hand,
# as {"name": {"required": [...], "errors": [...]}}.
NEWER_METHODS: dict[str, dict] = {
    "apps.connections.open": {"required": [], "errors": ["not_allowed_token_type"]},
}

# Parameters Slack requires although the 2020 spec does not mark them so.
REQUIRED_EXTRA: dict[str, list[str]] = {
    "chat.delete": ["channel", "ts"],
    "conversations.archive": ["channel"],
    "conversations.create": ["name"],
    "conversations.info": ["channel"],
    "conversations.invite": ["channel", "users"],
    "conversations.join": ["channel"],
    "conversations.members": ["channel"],
    "conversations.setPurpose": ["channel", "purpose"],
    "conversations.setTopic": ["channel", "topic"],
    "conversations.history": ["channel"],
    "conversations.unarchive": ["channel"],
    "users.info": ["user"],
}

# The specific error Slack gives for a missing parameter, where it has one.
MISSING_PARAM_ERRORS = {
    "channel": "channel_not_found",
    "name": "invalid_name_required",
    "user": "user_not_found",
    "users": "no_user",
    "ts": "message_not_found",
    "message_ts": "message_not_found",
    "trigger_id": "invalid_trigger_id",
}

# Errors Slack documents today (docs.slack.dev) that the 2020 spec does not list.
_BLOCK_ERRORS = ["invalid_blocks", "invalid_blocks_format", "invalid_attachments"]
_VIEW_ERRORS = ["invalid_arguments", "not_found", "hash_conflict", "duplicate_external_id", "view_too_large"]
_TRIGGER_ERRORS = ["invalid_trigger_id", "expired_trigger_id", "exchanged_trigger_id"]
NEWER_ERRORS: dict[str, list[str]] = {
    "chat.postMessage": _BLOCK_ERRORS,
    "chat.update": _BLOCK_ERRORS + ["is_archived"],
    "chat.postEphemeral": _BLOCK_ERRORS + ["not_in_channel"],
    "conversations.list": ["invalid_limit", "invalid_cursor", "invalid_types"],
    "conversations.open": ["cannot_dm_bot"],
    "usergroups.users.list": ["no_such_subteam"],
    "views.open": _VIEW_ERRORS + _TRIGGER_ERRORS,
    "views.push": _VIEW_ERRORS + _TRIGGER_ERRORS + ["push_limit_reached"],
    "views.update": _VIEW_ERRORS,
    "views.publish": _VIEW_ERRORS + ["user_not_found"],
}

# Errors every method may answer besides the ones the spec lists per method.
COMMON_ERRORS = {"invalid_arguments", "ratelimited", "not_authed", "invalid_auth", "unknown_method",
                 "internal_error", "not_implemented_in_standin"}


@lru_cache(maxsize=1)
def index() -> dict:
    data = json.loads(INDEX.read_text(encoding="utf-8"))
    data["methods"].update(NEWER_METHODS)
    return data


def exists(method: str) -> bool:
    return method in index()["methods"]


def required(method: str) -> list[str]:
    spec = index()["methods"].get(method, {})
    return list(dict.fromkeys(spec.get("required", []) + REQUIRED_EXTRA.get(method, [])))


def documented_errors(method: str) -> set[str]:
    spec = index()["methods"].get(method, {})
    return set(spec.get("errors", [])) | set(NEWER_ERRORS.get(method, [])) | COMMON_ERRORS


def event_wrapper_schema() -> dict:
    return index()["event_wrapper"]


# -- building the index from Slack's files -------------------------------------------

def build_index(spec_dir: Path) -> dict:
    openapi = json.loads((spec_dir / "slack_web_openapi_v2.json").read_text(encoding="utf-8"))
    wrapper = json.loads((spec_dir / "slack_common_event_wrapper_schema.json").read_text(encoding="utf-8"))
    methods = {}
    for path, verbs in sorted(openapi["paths"].items()):
        for op in verbs.values():
            params = op.get("parameters", [])
            error_schema = op.get("responses", {}).get("default", {}).get("schema", {})
            methods[path.lstrip("/")] = {
                "required": [p["name"] for p in params if p.get("required") and p["name"] != "token"],
                "errors": error_schema.get("properties", {}).get("error", {}).get("enum", []),
            }
    return {
        "_source": "Derived from slackapi/slack-api-specs (MIT licence, (c) 2017 SlackAPI) at commit "
                   "bc08db49625630e3585bf2f1322128ea04f2a7f3: web-api/slack_web_openapi_v2.json and "
                   "events-api/slack_common_event_wrapper_schema.json. Regenerate with "
                   "`python -m bot.sandbox.workspace.spec <dir>`.",
        "methods": methods,
        "event_wrapper": _strip_docs(wrapper),
    }


def _strip_docs(schema):
    """Keep only what validation needs from a JSON schema."""
    keep = {"type", "required", "items", "minItems", "uniqueItems"}
    out = {k: (_strip_docs(v) if k == "items" else v) for k, v in schema.items() if k in keep}
    if "properties" in schema:
        out["properties"] = {name: _strip_docs(sub) for name, sub in schema["properties"].items()}
    return out


if __name__ == "__main__":  # pragma: no cover - maintenance tool
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/slack")
    INDEX.write_text(json.dumps(build_index(source), indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {INDEX} ({len(index.__wrapped__()['methods'])} methods)")
