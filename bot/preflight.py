"""What `serve` and `tick` check before they start.

Each failure is a `StartupError`: one line that names the variable to fix, printed by the CLI
without a traceback. Slack being unreachable is not a failure (the outbox outlasts outages);
Slack refusing a token is, because every message would be refused too.
"""
from __future__ import annotations

import logging
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.delivery.auth_pause import AUTH_ERRORS

log = logging.getLogger("launchgate")

# Errors meaning "this token is wrong", on top of the ones that pause delivery later.
REFUSED = AUTH_ERRORS | {"not_allowed_token_type", "invalid_token", "missing_scope"}


class StartupError(Exception):
    """Printed as one line on stderr; exit status 2."""


def slack_mode(settings: Settings) -> str:
    """Which transport `serve` starts, and why (logged at start)."""
    if settings.socket_mode:
        return "Socket Mode (SLACK_APP_TOKEN is set): Slack sends events over a WebSocket; no public URL needed"
    return (f"HTTP mode (SLACK_APP_TOKEN is empty): Slack must POST to /slack/events on port {settings.port}; "
            "Socket Mode must be off in the Slack app's settings")


def require_credentials(settings: Settings, command: str) -> None:
    """Missing variables, named with both ways of running (slack-manifest.yml turns Socket Mode on)."""
    missing = (settings.missing_slack_credentials() if command == "serve"
               else [] if settings.slack_bot_token else ["SLACK_BOT_TOKEN"])  # tick only sends
    if not missing:
        return
    hint = " `launchgate tick --dry-run` shows what would go out without Slack." if command == "tick" else ""
    raise StartupError(
        f"missing Slack credentials ({', '.join(missing)} not set). Set SLACK_BOT_TOKEN and SLACK_APP_TOKEN "
        "(Socket Mode, as slack-manifest.yml sets up) or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode) "
        "in the environment or .env; README, 'Create the Slack app', says where each comes from. "
        f"To try launchgate without Slack: `launchgate sandbox`.{hint}")


def check_bot_token(client: WebClient) -> None:
    """`auth.test` with SLACK_BOT_TOKEN: refuse to start if Slack refuses the token."""
    try:
        who = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        if error in REFUSED:
            raise StartupError(
                f"SLACK_BOT_TOKEN was refused by Slack ({error}): copy the Bot User OAuth Token (xoxb-…) from the "
                "Slack app's 'OAuth & Permissions' page (reinstall the app if it was revoked)") from None
        log.warning("could not check SLACK_BOT_TOKEN (Slack answered %s); starting anyway, messages wait in the "
                    "outbox", error)
    except (URLError, OSError) as exc:
        log.warning("could not reach Slack at SLACK_API_URL to check SLACK_BOT_TOKEN (%s); starting anyway, "
                    "messages wait in the outbox", exc)
    else:
        log.info("Slack accepts SLACK_BOT_TOKEN: bot @%s in %s", who.get("user"), who.get("team"))


def check_app_token(client: WebClient, app_token: str) -> str:
    """`apps.connections.open` with SLACK_APP_TOKEN; returns the WebSocket URL to connect to
    (the Socket Mode client uses it, so checking costs no extra connection)."""
    try:
        return client.apps_connections_open(app_token=app_token)["url"]
    except SlackApiError as exc:
        error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        if error in REFUSED:
            raise StartupError(
                f"SLACK_APP_TOKEN was refused by Slack ({error}): create an app-level token (xapp-…) with "
                "connections:write under the app's 'Basic Information → App-Level Tokens', or leave "
                "SLACK_APP_TOKEN empty to serve HTTP") from None
        raise StartupError(f"Socket Mode could not start: Slack answered {error} to apps.connections.open "
                           "(SLACK_APP_TOKEN); try again, or leave SLACK_APP_TOKEN empty to serve HTTP") from None
    except (URLError, OSError) as exc:
        raise StartupError(f"Socket Mode could not start: Slack is unreachable at SLACK_API_URL ({exc})") from None


def database_problem(exc: BaseException, url: str) -> str:
    """One line for a database that cannot be used, naming DATABASE_URL (password hidden)."""
    import re

    from sqlalchemy.engine import make_url

    text = str(getattr(exc, "orig", None) or exc).strip()
    first = (text.splitlines() or [type(exc).__name__])[0].strip()
    try:
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True)
    except Exception:
        return f"DATABASE_URL is not a database URL ({first}); e.g. sqlite:///launchgate.db or postgresql://user@host/db"
    sqlite = parsed.get_backend_name() == "sqlite"
    if missing := re.search(r'database "([^"]+)" does not exist', text):
        return (f"the database {missing.group(1)!r} in DATABASE_URL ({shown}) does not exist: create it "
                f"(createdb {missing.group(1)}), then run `launchgate migrate`")
    if sqlite and "readonly database" in text:
        return (f"the SQLite file in DATABASE_URL ({parsed.database}) is read-only: make the file and its directory "
                "writable by this user, or point DATABASE_URL at another file")
    if sqlite and "unable to open database file" in text:
        return (f"cannot open the SQLite file in DATABASE_URL ({parsed.database}): does its directory exist and is it "
                "writable by this user?")
    if re.search(r"password authentication failed|role \"[^\"]+\" does not exist|no password supplied", text):
        return f"the database server refused the login in DATABASE_URL ({shown}): {first}"
    if re.search(r"Connection refused|could not translate host name|Name or service not known|timeout expired|"
                 r"No route to host|Network is unreachable|could not connect|connection failed", text, re.I):
        return f"cannot reach the database in DATABASE_URL ({shown}): {_reason(text)}"
    return f"database error (DATABASE_URL {shown}): {first}"


def _reason(text: str) -> str:
    """psycopg: 'connection failed: connection to server at "h", port 9 failed: Connection refused' → the cause."""
    first = text.strip().splitlines()[0] if text.strip() else text
    return first.rsplit("failed: ", 1)[-1].strip() or first


def check_database(engine, url: str) -> None:
    """The database takes a write (the /healthz probe, rolled back): a read-only file or replica stops
    `serve` and `tick` here, in one line, instead of failing every command later."""
    from bot.health import write_probe

    problem = write_probe(engine)
    if problem:
        raise StartupError(database_problem(Exception(problem.split(": ", 1)[-1]), url))
