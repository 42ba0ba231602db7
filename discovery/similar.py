"""Duplicate suggestions while typing (docs/decisions/1602-duplicate-scoring.md).

PostgreSQL: trigram word similarity (pg_trgm) between what is typed and the stored title or text,
through the `%>` operator that the GIN trigram indexes serve, best first. Elsewhere (SQLite, the
embedded default): the share of the typed words found in the field, computed in Python over the
rows that contain any of them.
"""

import re

from django.db import connection

MIN_QUERY = 3
LIMIT = 5
_WORD = re.compile(r"\w{3,}", re.UNICODE)


def words(text: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text or "")))[:8]


def word_share(query: str, text: str) -> float:
    """Pure fallback score: the share of the query's words (3+ letters) that occur in `text`."""
    wanted = words(query)
    if not wanted:
        return 0.0
    have = (text or "").lower()
    return sum(1 for w in wanted if w in have) / len(wanted)


def similar(queryset, *, field: str, query: str, limit: int = LIMIT, threshold: float = 0.3) -> list:
    """Up to `limit` rows of `queryset` whose `field` is most like `query`, each with `.score` (0-1)."""
    query = (query or "").strip()[:200]
    if len(query) < MIN_QUERY:
        return []
    if connection.vendor == "postgresql":
        from django.contrib.postgres.lookups import TrigramWordSimilar
        from django.contrib.postgres.search import TrigramWordSimilarity

        # `%>` (index-served) on this one field only: django.contrib.postgres is not an installed app.
        queryset.model._meta.get_field(field).register_lookup(TrigramWordSimilar)
        rows = list(queryset.filter(**{f"{field}__trigram_word_similar": query})
                    .annotate(score=TrigramWordSimilarity(query, field))
                    .filter(score__gte=threshold).order_by("-score", "-id")[:limit])
        return rows
    from django.db.models import Q

    wanted = words(query)
    if not wanted:
        return []
    match = Q()
    for w in wanted:
        match |= Q(**{f"{field}__icontains": w})
    rows = list(queryset.filter(match).order_by("-id")[:500])
    for row in rows:
        row.score = word_share(query, getattr(row, field))
    rows = [r for r in rows if r.score >= threshold]
    rows.sort(key=lambda r: (-r.score, -r.id))
    return rows[:limit]
