"""Outgoing webhooks: endpoints from webhooks.yaml, events derived from audit events,
Standard Webhooks signatures (the `standardwebhooks` package), delivery through the outbox."""
