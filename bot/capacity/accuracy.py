"""Forecast accuracy: per-week error, WAPE and bias (no Slack, no database).

Conventions (docs/capacity.md, "Forecast accuracy"):

* error of a week = (actual − forecast) ÷ forecast: +30 % means 30 % more contacts came
  than were forecast; a week forecast at 0 has no percentage (shown as the raw difference);
* WAPE = Σ |actual − forecast| ÷ Σ actual over the weeks with actuals (weighted absolute
  percentage error: big weeks count more, and a 0-forecast week cannot blow it up);
* bias = Σ (forecast − actual) ÷ Σ actual: positive = over-forecast (more staff booked
  than needed), negative = under-forecast (queues under water).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WeekError:
    week: int
    forecast: float
    actual: float

    @property
    def error(self) -> float | None:
        return (self.actual - self.forecast) / self.forecast if self.forecast else None


@dataclass(frozen=True)
class Accuracy:
    weeks: list[WeekError]
    wape: float | None
    bias: float | None

    @property
    def accuracy(self) -> float | None:
        """1 − WAPE, floored at 0: the single figure people quote ("84 % accurate")."""
        return None if self.wape is None else max(0.0, 1.0 - self.wape)

    @property
    def direction(self) -> str:
        if self.bias is None:
            return "no actuals yet"
        if abs(self.bias) < 0.02:
            return "unbiased"
        return "over-forecast" if self.bias > 0 else "under-forecast"


def accuracy(forecast: list[float], actual: dict[int, float]) -> Accuracy:
    """`forecast`: contacts for weeks 1–6; `actual`: {week: contacts} for the weeks known so far."""
    weeks = [WeekError(w, float(forecast[w - 1]), float(a)) for w, a in sorted(actual.items())
             if 1 <= w <= len(forecast)]
    total = sum(w.actual for w in weeks)
    if not weeks or total <= 0:
        return Accuracy(weeks, None, None)
    wape = sum(abs(w.actual - w.forecast) for w in weeks) / total
    bias = sum(w.forecast - w.actual for w in weeks) / total
    return Accuracy(weeks, wape, bias)


def trend(wapes: list[float]) -> str:
    """Improving / worsening / steady over a forecaster's launches, oldest first (needs 3)."""
    if len(wapes) < 3:
        return "too few launches"
    half = len(wapes) // 2
    before, after = sum(wapes[:half]) / half, sum(wapes[-half:]) / half
    if after < before - 0.05:
        return "improving"
    if after > before + 0.05:
        return "worsening"
    return "steady"
