"""The workspace side of the sandbox (people, channels, messages, open views, Home tabs, the
virtual clock) saved in the sandbox's own SQLite file, beside the bot's tables, so a restart
shows the same workspace the bot's `SlackMessageRef`s point into.

One row of JSON in `sandbox_workspace`; written by a background saver at most a few times a
second after something changed, and once more at stop.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict
from pathlib import Path

from .workspace.state import Channel, State, User, ViewRecord

TABLE = "sandbox_workspace"
SAVE_EVERY = 0.3  # seconds
KEEP_CALLS = 200  # the workspace's request log is for tests; the sandbox keeps only the tail
KEEP_EPHEMERALS = 100


class WorkspaceStore:
    def __init__(self, path: Path):
        self.path = path
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        with self._connect() as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    # -- reading ------------------------------------------------------------------
    def load(self, key: str):
        with self._connect() as conn:
            row = conn.execute(f"SELECT value FROM {TABLE} WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def restore(self, state: State) -> bool:
        saved = self.load("workspace")
        if saved is None:
            return False
        with state.lock:
            state.clear()
            state.ids.load(saved["ids"])
            state.users = {u["id"]: User(**u) for u in saved["users"]}
            state.channels = {c["id"]: Channel(**{**c, "members": set(c["members"])}) for c in saved["channels"]}
            state.usergroups = saved["usergroups"]
            state.messages = saved["messages"]
            state.ephemerals = saved["ephemerals"]
            state.views = {v["view"]["id"]: ViewRecord(**v) for v in saved["views"]}
            state.view_stacks = saved["view_stacks"]
            state.home_views = saved["home_views"]
        return True

    # -- writing ------------------------------------------------------------------
    def save(self, key: str, value) -> None:
        with self._connect() as conn:
            conn.execute(f"INSERT INTO {TABLE} (key, value) VALUES (?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, json.dumps(value)))

    def save_state(self, state: State) -> None:
        with state.lock:
            prune(state)
            snapshot = {
                "ids": state.ids.dump(),
                "users": [asdict(u) for u in state.users.values()],
                "channels": [{**asdict(c), "members": sorted(c.members)} for c in state.channels.values()],
                "usergroups": state.usergroups, "messages": state.messages, "ephemerals": state.ephemerals,
                "views": [asdict(v) for v in state.views.values()],
                "view_stacks": state.view_stacks, "home_views": state.home_views,
            }
            text = json.dumps(snapshot)
        with self._connect() as conn:
            conn.execute(f"INSERT INTO {TABLE} (key, value) VALUES ('workspace', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (text,))

    def changed(self) -> None:
        self._changed.set()

    def start_saver(self, state: State) -> None:
        def loop():
            while not self._stop.is_set():
                if self._changed.wait(timeout=1.0):
                    self._changed.clear()
                    self.save_state(state)
                    self._stop.wait(SAVE_EVERY)

        self._thread = threading.Thread(target=loop, name="sandbox-saver", daemon=True)
        self._thread.start()

    def stop(self, state: State) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.save_state(state)


def prune(state: State) -> None:
    """Forget what no one can see any more: closed modals, old ephemerals, the request log."""
    homes = set(state.home_views.values())
    for view_id in [v for v, r in state.views.items() if not r.open and v not in homes]:
        del state.views[view_id]
    del state.calls[:-KEEP_CALLS]
    del state.responses[:-KEEP_CALLS]
    del state.ephemerals[:-KEEP_EPHEMERALS]
    state.triggers = {k: t for k, t in state.triggers.items() if not t.used}
