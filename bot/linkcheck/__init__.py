"""Checking evidence links: a guarded HTTP fetcher and the pass that runs due checks."""
