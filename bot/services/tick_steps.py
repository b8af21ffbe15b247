"""Imports every module that registers a scheduler step (see bot/ticks.py)."""
