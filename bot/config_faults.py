"""Problems found in a YAML configuration file (checklist templates, capacity.yaml): one
type for all of them, so every file's faults read the same — file, where in it, why."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    file: str
    field: str      # where in the file: a key path, a gate, an item
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


class FaultsError(Exception):
    """A file that cannot be used; `faults` lists every problem, not just the first."""

    def __init__(self, faults: list[Fault]):
        super().__init__("; ".join(map(str, faults)))
        self.faults = faults

    def report(self, title: str) -> str:
        """`title` and one fault a line, for the CLI and the sandbox."""
        return title + ":\n" + "\n".join(str(f) for f in self.faults)
