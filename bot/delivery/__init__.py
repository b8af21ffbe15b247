"""Delivery: the outbox worker, what each outbox kind renders to (registry.py), and the
Slack gateway (gateway.py)."""
