"""Risk arithmetic, pure (no Django): the score, the appetite test and the 5x5 heat map.

Definitions (docs/figures.md):
- score = likelihood x impact, each 1-5, so 1-25. An issue has happened: likelihood 5, and
  its severity is the impact (score 5-25), so issues and risks share one scale and one map.
- a risk is *above appetite* when it is not closed and its score is strictly greater than the
  product's appetite (the appetite is the highest acceptable score).
"""

from __future__ import annotations

SCALE = (1, 2, 3, 4, 5)
MAX_SCORE = 25


def risk_score(likelihood: int, impact: int) -> int:
    if likelihood not in SCALE or impact not in SCALE:
        raise ValueError("likelihood and impact are 1-5")
    return likelihood * impact


def above_appetite(score: int, appetite: int, *, closed: bool = False) -> bool:
    return not closed and score > appetite


def band(score: int, appetite: int) -> str:
    """Colour band of a heat-map cell: above the appetite is "high"; within 60% of it and up "medium"."""
    if score > appetite:
        return "high"
    if score * 5 > appetite * 3:
        return "medium"
    return "low"


def heat_map(counts: dict[tuple[int, int], int], appetite: int) -> list[list[dict]]:
    """Rows from likelihood 5 (top) to 1, columns impact 1 to 5; each cell its count, score and band."""
    return [[{"likelihood": lk, "impact": im, "score": lk * im, "count": counts.get((lk, im), 0),
              "band": band(lk * im, appetite)} for im in SCALE] for lk in reversed(SCALE)]
