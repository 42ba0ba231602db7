"""Prioritization frameworks as pure functions (no Django models, no request).

Every function takes plain numbers and returns a Decimal rounded to 4 places. Inputs are
checked first: a missing input or a zero divisor raises ScoringError carrying field errors
({"effort": ["..."]}), which services turn into a 400 with field errors. A story with no
inputs at all is simply unscored (score None), never a silent zero.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Q = Decimal("0.0001")
# Bounds that keep every figure storable: an input is at most a billion either way, and a score
# must fit its column (DecimalField(max_digits=14, decimal_places=4): under 10^10). Without
# them 1e308 reached Decimal.quantize or the database and answered 500.
INPUT_LIMIT = Decimal(10) ** 9
SCORE_LIMIT = Decimal(10) ** 10


class ScoringError(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Explanation:
    framework: str
    formula: str
    inputs: dict
    score: Decimal | None
    category: str = ""
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"framework": self.framework, "formula": self.formula,
                "inputs": {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.inputs.items()},
                "score": None if self.score is None else str(self.score), "category": self.category,
                "missing": self.missing}


def _q(value: Decimal) -> Decimal:
    if not value.is_finite() or abs(value) >= SCORE_LIMIT:
        message = f"These inputs give a score beyond {SCORE_LIMIT - 1:,}; use smaller numbers."
        raise ScoringError({"score_inputs": [message]})
    return value.quantize(Q, rounding=ROUND_HALF_UP)


def _num(name: str, value, errors: dict, *, positive: bool = False, minimum=None, maximum=None) -> Decimal:
    if value is None or value == "":
        errors.setdefault(name, []).append(f"{name.replace('_', ' ').capitalize()} is required for this model.")
        return Decimal(0)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(name, []).append("Enter a number.")
        return Decimal(0)
    if not number.is_finite():
        errors.setdefault(name, []).append("Enter a finite number.")
        return Decimal(0)
    if abs(number) > INPUT_LIMIT:
        errors.setdefault(name, []).append(f"Enter a number between -{INPUT_LIMIT:,} and {INPUT_LIMIT:,}.")
        return Decimal(0)
    if positive and number <= 0:
        errors.setdefault(name, []).append(f"{name.replace('_', ' ').capitalize()} must be greater than zero.")
    if minimum is not None and number < minimum:
        errors.setdefault(name, []).append(f"Must be at least {minimum}.")
    if maximum is not None and number > maximum:
        errors.setdefault(name, []).append(f"Must be at most {maximum}.")
    return number


def rice(*, reach, impact, confidence, effort) -> Decimal:
    """RICE = reach x impact x (confidence / 100) / effort.

    reach: people or events per period; impact: 0.25, 0.5, 1, 2 or 3; confidence: percent
    (0-100); effort: person-months, > 0. Example: 1000 x 2 x 80% / 4 = 400.
    """
    errors: dict = {}
    r = _num("reach", reach, errors, minimum=0)
    i = _num("impact", impact, errors, minimum=0)
    c = _num("confidence", confidence, errors, minimum=0, maximum=100)
    e = _num("effort", effort, errors, positive=True)
    if errors:
        raise ScoringError(errors)
    return _q(r * i * (c / 100) / e)


def wsjf(*, business_value, time_criticality, risk_reduction, job_size) -> Decimal:
    """WSJF = (business value + time criticality + risk reduction/opportunity enablement) / job size.

    Example: (8 + 5 + 3) / 4 = 4.
    """
    errors: dict = {}
    bv = _num("business_value", business_value, errors, minimum=0)
    tc = _num("time_criticality", time_criticality, errors, minimum=0)
    rr = _num("risk_reduction", risk_reduction, errors, minimum=0)
    js = _num("job_size", job_size, errors, positive=True)
    if errors:
        raise ScoringError(errors)
    return _q((bv + tc + rr) / js)


def value_effort(*, value, effort) -> Decimal:
    """Value / effort (both 1-10). Example: 8 / 2 = 4. See `quadrant` for the 2x2 chart."""
    errors: dict = {}
    v = _num("value", value, errors, minimum=0)
    e = _num("effort", effort, errors, positive=True)
    if errors:
        raise ScoringError(errors)
    return _q(v / e)


def quadrant(*, value, effort, midpoint=Decimal(5)) -> str:
    """The 2x2 of value vs effort: high value & low effort = quick win; high & high = big bet;
    low & low = fill-in; low value & high effort = money pit. "High" means > midpoint."""
    high_value, high_effort = Decimal(str(value)) > midpoint, Decimal(str(effort)) > midpoint
    if high_value:
        return "big bet" if high_effort else "quick win"
    return "money pit" if high_effort else "fill-in"


def ice(*, impact, confidence, ease) -> Decimal:
    """ICE = impact x confidence x ease (each 1-10). Example: 7 x 6 x 5 = 210."""
    errors: dict = {}
    i = _num("impact", impact, errors, minimum=0, maximum=10)
    c = _num("confidence", confidence, errors, minimum=0, maximum=10)
    e = _num("ease", ease, errors, minimum=0, maximum=10)
    if errors:
        raise ScoringError(errors)
    return _q(i * c * e)


MOSCOW_POINTS = {"must": 4, "should": 3, "could": 2, "wont": 0}
KANO_POINTS = {"basic": 4, "performance": 3, "attractive": 2, "indifferent": 1, "reverse": 0}


def category_score(*, category: str, points: dict, name: str) -> Decimal:
    """MoSCoW (must 4, should 3, could 2, won't 0) and Kano (basic 4, performance 3,
    attractive 2, indifferent 1, reverse 0) as sortable numbers."""
    if not category:
        raise ScoringError({name: [f"Choose a {name} category."]})
    if category not in points:
        raise ScoringError({name: [f"Unknown {name} category {category!r}."]})
    return _q(Decimal(points[category]))


def weighted(*, criteria: list[dict], values: dict) -> Decimal:
    """Weighted score = sum(weight x value of criteria for) - sum(weight x value of criteria against).

    criteria: [{"key", "weight", "against"}]; values: {key: number}. Example with value 8
    (weight 2), reach 5 (weight 1) and effort 3 (weight 1.5, against): 2x8 + 1x5 - 1.5x3 = 16.5.
    """
    errors: dict = {}
    total = Decimal(0)
    for c in criteria:
        v = _num(c["key"], values.get(c["key"]), errors)
        w = Decimal(str(c.get("weight", 1)))
        total += -w * v if c.get("against") else w * v
    if errors:
        raise ScoringError(errors)
    return _q(total)


FRAMEWORK_INPUTS = {
    "rice": ["reach", "impact", "confidence", "effort"],
    "wsjf": ["business_value", "time_criticality", "risk_reduction", "job_size"],
    "value_effort": ["value", "effort"],
    "ice": ["impact", "confidence", "ease"],
    "moscow": [],
    "kano": [],
}
FORMULAS = {
    "rice": "reach × impact × confidence% ÷ effort",
    "wsjf": "(business value + time criticality + risk reduction) ÷ job size",
    "value_effort": "value ÷ effort",
    "ice": "impact × confidence × ease",
    "moscow": "MoSCoW points: must 4, should 3, could 2, won't 0",
    "kano": "Kano points: basic 4, performance 3, attractive 2, indifferent 1, reverse 0",
}


def input_keys(framework: str, criteria: list[dict]) -> list[str]:
    """The keys a story must provide in its score_inputs (weighted: criteria with source "input")."""
    if framework == "weighted":
        return [c["key"] for c in criteria if c.get("source", "input") == "input"]
    return FRAMEWORK_INPUTS.get(framework, [])


def weighted_formula(criteria: list[dict]) -> str:
    parts = [f"{'−' if c.get('against') else '+'} {c.get('weight', 1)}×{c['key']}" for c in criteria]
    return " ".join(parts).lstrip("+ ") or "0"


def evaluate(*, framework: str, criteria: list[dict], inputs: dict, moscow: str = "", kano: str = "") -> Explanation:
    """Score one item. `inputs` holds every value the model may read (score inputs, numeric custom
    fields under their key, "demand"). Raises ScoringError on missing or invalid inputs."""
    if framework == "moscow":
        score = category_score(category=moscow, points=MOSCOW_POINTS, name="moscow")
        return Explanation(framework, FORMULAS[framework], {"moscow": moscow}, score, category=moscow)
    if framework == "kano":
        score = category_score(category=kano, points=KANO_POINTS, name="kano")
        return Explanation(framework, FORMULAS[framework], {"kano": kano}, score, category=kano)
    if framework == "weighted":
        used = {c["key"]: inputs.get(c["key"]) for c in criteria}
        return Explanation(framework, weighted_formula(criteria), used,
                           weighted(criteria=criteria, values=inputs))
    keys = FRAMEWORK_INPUTS[framework]
    used = {k: inputs.get(k) for k in keys}
    fn = {"rice": rice, "wsjf": wsjf, "value_effort": value_effort, "ice": ice}[framework]
    score = fn(**used)
    category = quadrant(value=used["value"], effort=used["effort"]) if framework == "value_effort" else ""
    return Explanation(framework, FORMULAS[framework], used, score, category=category)


def try_evaluate(**kwargs) -> Explanation:
    """Like evaluate, but missing inputs give an unscored explanation listing them (for bulk
    re-scoring and what-if: one incomplete story must not stop the others)."""
    try:
        return evaluate(**kwargs)
    except ScoringError as e:
        fw = kwargs["framework"]
        formula = weighted_formula(kwargs["criteria"]) if fw == "weighted" else FORMULAS.get(fw, "")
        return Explanation(fw, formula, {}, None, missing=sorted(e.errors))


def has_any_input(*, framework: str, criteria: list[dict], score_inputs: dict, moscow: str = "",
                  kano: str = "") -> bool:
    if framework == "moscow":
        return bool(moscow)
    if framework == "kano":
        return bool(kano)
    return any(score_inputs.get(k) not in (None, "") for k in input_keys(framework, criteria))


def validate_criteria(criteria) -> dict:
    """Field errors of a weighted model's criteria (empty when valid)."""
    errors: list[str] = []
    if not isinstance(criteria, list) or not criteria:
        return {"criteria": ["A weighted model needs at least one criterion."]}
    seen = set()
    for i, c in enumerate(criteria):
        if not isinstance(c, dict) or not str(c.get("key", "")).strip():
            errors.append(f"Criterion {i + 1} needs a key.")
            continue
        if c["key"] in seen:
            errors.append(f"Criterion key {c['key']!r} is used twice.")
        seen.add(c["key"])
        try:
            w = Decimal(str(c.get("weight", 1)))
            if not w.is_finite() or w < 0 or w > INPUT_LIMIT:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.append(f"Criterion {c['key']!r}: weight must be a number from 0 to {INPUT_LIMIT:,}.")
        if c.get("source", "input") not in ("input", "custom_field", "demand"):
            errors.append(f"Criterion {c['key']!r}: source must be input, custom_field or demand.")
    return {"criteria": errors} if errors else {}
