"""Placeholder until this surface is built."""


def register(app, rt) -> None:
    pass
