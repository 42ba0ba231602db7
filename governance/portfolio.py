"""Portfolio arithmetic, pure (no Django): one scoring model for every product's initiatives,
and demand against capacity per quarter (docs/figures.md, docs/decisions/1507).

Inputs per initiative: value, time criticality and risk reduction (1-10 each), cost (person-weeks,
more than 0); strategic fit = 10 when the initiative serves at least one objective, else 0; risk =
the highest score of its open linked risks scaled to 0-10 (score x 10 / 25).

Models (the portfolio chooses one):
- wsjf:       (value + time criticality + risk reduction) / cost
- value_cost: value / cost
- weighted:   (w_value x value + w_fit x fit - w_risk x risk) / cost
Scores are rounded half-up to two decimals; an initiative without inputs has no score and ranks last.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MODELS = {"wsjf": "WSJF: (value + time criticality + risk reduction) / cost",
          "value_cost": "Value / cost",
          "weighted": "Weighted: (value, strategic fit, minus risk) / cost"}
TWO = Decimal("0.01")


def strategic_fit(objective_count: int) -> int:
    return 10 if objective_count else 0


def risk_points(max_open_risk_score: int | None) -> Decimal:
    """The highest open linked risk score (1-25) on the 0-10 scale of the other inputs."""
    return (Decimal(max_open_risk_score or 0) * 10 / 25).quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Weights:
    value: int = 1
    fit: int = 1
    risk: int = 1


def score(model: str, *, value: int, time_criticality: int, risk_reduction: int, cost: Decimal, fit: int = 0,
          risk: Decimal = Decimal(0), weights: Weights = Weights()) -> Decimal:
    if cost is None or Decimal(cost) <= 0:
        raise ValueError("cost must be more than 0")
    cost = Decimal(cost)
    if model == "wsjf":
        raw = Decimal(value + time_criticality + risk_reduction) / cost
    elif model == "value_cost":
        raw = Decimal(value) / cost
    elif model == "weighted":
        raw = (weights.value * Decimal(value) + weights.fit * Decimal(fit) - weights.risk * Decimal(risk)) / cost
    else:
        raise ValueError(f"unknown model {model!r}")
    return raw.quantize(TWO, rounding=ROUND_HALF_UP)


def quarter_of(day) -> str | None:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}" if day else None


def demand_by_quarter(rows: list[tuple[str | None, Decimal]], capacity: dict[str, Decimal]) -> list[dict]:
    """rows: (quarter of the start date or None, cost) of the initiatives that count as demand
    (not stopped or deferred). One row per quarter with demand or capacity, in order, then the
    unscheduled demand (no start date) last; `over` is demand above capacity."""
    demand: dict[str | None, Decimal] = {}
    for quarter, cost in rows:
        demand[quarter] = demand.get(quarter, Decimal(0)) + Decimal(cost)
    quarters = sorted({q for q in demand if q} | set(capacity))
    out = []
    for q in quarters:
        d, c = demand.get(q, Decimal(0)), capacity.get(q)
        out.append({"quarter": q, "demand": d, "capacity": c, "over": c is not None and d > c,
                    "free": None if c is None else c - d, "over_by": d - c if c is not None and d > c else None})
    if None in demand:
        out.append({"quarter": None, "demand": demand[None], "capacity": None, "over": False, "free": None,
                    "over_by": None})
    return out


def demand_by_owner(rows: list[tuple[str | None, str | None, Decimal]], capacity: dict[str, Decimal]) -> list[dict]:
    """rows: (owner's name or None, quarter or None, cost) of the initiatives that count as demand.
    The data model has no team: an initiative's owner is the available axis (decisions/1509). One
    row per owner, the largest demand first, "no owner" last; each with its quarters, and each
    quarter's share of that quarter's capacity (percent, one decimal; None without capacity)."""
    owners: dict[str | None, dict[str | None, Decimal]] = {}
    for owner, quarter, cost in rows:
        quarters = owners.setdefault(owner, {})
        quarters[quarter] = quarters.get(quarter, Decimal(0)) + Decimal(cost)
    out = []
    for owner, quarters in owners.items():
        cells = []
        for q in sorted(quarters, key=lambda q: (q is None, q or "")):
            c = capacity.get(q) if q else None
            share = (quarters[q] * 100 / c).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if c else None
            cells.append({"quarter": q, "demand": quarters[q], "share": share})
        out.append({"owner": owner, "demand": sum(quarters.values(), Decimal(0)), "quarters": cells})
    out.sort(key=lambda r: (r["owner"] is None, -r["demand"], r["owner"] or ""))
    return out
