"""Staffing arithmetic (queueing formulas, FTE, async workload): no Slack, no database."""
