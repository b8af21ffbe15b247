"""Prometheus metrics served on /metrics: what an operator pages on."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_SENT = Counter("launchgate_outbox_sent_total", "Outbox rows delivered to Slack", ["kind"])
OUTBOX_RETRIED = Counter("launchgate_outbox_retried_total", "Outbox deliveries rescheduled", ["reason"])
OUTBOX_DEAD = Counter("launchgate_outbox_dead_total", "Outbox rows dead-lettered", ["error"])
OUTBOX_PENDING = Gauge("launchgate_outbox_pending", "Outbox rows waiting to be sent")
TICK_SECONDS = Histogram("launchgate_tick_seconds", "Duration of one scheduler pass")
TICK_FAILURES = Counter("launchgate_tick_step_failures_total", "Scheduler steps that raised", ["step"])
OUTBOX_OLDEST_UNDELIVERED = Gauge("launchgate_outbox_oldest_undelivered_seconds",
                                  "Age of the oldest outbox row due or failing and not yet delivered (0: none)")
OUTBOX_DEAD_ROWS = Gauge("launchgate_outbox_dead_rows", "Dead-lettered outbox rows kept for `launchgate outbox retry`")
UNHANDLED_ERRORS = Counter("launchgate_unhandled_errors_total",
                           "Requests that reached the last-resort error handler (should stay 0)", ["kind"])
