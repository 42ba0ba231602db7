"""Customer demand from the inbox (pure): how much one highlighted insight weighs.

weight = importance (1-5) x segment weight (backlog settings, default 1) x revenue factor, where
revenue factor = 1 + log10(1 + revenue / 10,000) (1 for no known revenue; 3.0 for 1,000,000 a year).
The logarithm keeps one giant account from drowning every other voice while still ranking a
large customer above a small one. See docs/decisions/1601-demand-formula.md.
"""

import math
from decimal import Decimal

REVENUE_UNIT = 10_000


def revenue_factor(revenue) -> float:
    if revenue is None or revenue <= 0:
        return 1.0
    return 1.0 + math.log10(1.0 + float(revenue) / REVENUE_UNIT)


def highlight_weight(*, importance: int, segment_weight: float = 1.0, revenue=None) -> Decimal:
    return Decimal(str(round(importance * segment_weight * revenue_factor(revenue), 4)))
