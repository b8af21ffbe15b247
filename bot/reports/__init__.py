"""Jinja2 templates for `launchgate report` (rendered by bot/services/report.py)."""
