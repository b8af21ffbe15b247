"""The App Home tab (being built: see issue "Gates, approvals…")."""
from __future__ import annotations


def publish_home(rt, client, user_id: str) -> None:
    """Re-render and publish `user_id`'s Home tab (after they acted from it)."""
    return None


def register(app, rt) -> None:
    pass
