"""Search across the workspace: one registry of searchable models, one selector.

Each app registers what it wants found in its AppConfig.ready (`search_register`), so the core
imports no feature app. `search(user=, q=)` runs one query per registered kind, scoped to the
user's workspaces (`workspace_ids_for`), bounded per kind, and merges the hits by rank.

On PostgreSQL a kind matches with full-text search: `to_tsvector('english', title || ' ' || text)`
(a GIN expression index on the big tables, see `search_index_operation`) against a tsquery made
of the words typed, the last one as a prefix so the box finds as you type. The rank weighs the
title (A) above the text (B). On SQLite (the embedded default) every word must occur in the title
or the text (icontains), and a title match ranks first. See docs/decisions/1310-search.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, F, FloatField, Q, Value, When

from .access import workspace_ids_for

CONFIG = "english"
MAX_QUERY_LENGTH = 100
MAX_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Searchable:
    """How one model is found and shown.

    kind: stable code in the API ("story"); label: what people read ("Story").
    queryset: a callable giving the base queryset (e.g. alive products only).
    title / text: the fields matched; the title weighs more. workspace: the lookup path to the
    workspace id ("product__workspace"). values: the columns `show` needs; show(row) returns
    (title, subtitle, url) for one row of `.values(*values)`.
    """

    kind: str
    label: str
    queryset: Callable
    title: str
    text: tuple[str, ...]
    workspace: str
    values: tuple[str, ...]
    show: Callable[[dict], tuple[str, str, str]]
    order: int = 100


@dataclass(frozen=True)
class SearchHit:
    kind: str
    label: str
    title: str
    subtitle: str
    url: str
    rank: float


_REGISTRY: dict[str, Searchable] = {}


def search_register(searchable: Searchable) -> None:
    """Make a model searchable (call from AppConfig.ready; registering a kind twice replaces it)."""
    _REGISTRY[searchable.kind] = searchable


def searchables() -> list[Searchable]:
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.kind))


def search_words(q: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_WORDS (punctuation and tsquery operators
    dropped, so no input can make a malformed tsquery)."""
    return [w.lower() for w in _WORD.findall(q or "")][:MAX_WORDS]


def search_tsquery(words: list[str]) -> str:
    """A raw tsquery: every word must match, the last as a prefix (`plan & road:*`)."""
    return " & ".join(words[:-1] + [words[-1] + ":*"])


def search_vector_fields(searchable: Searchable) -> tuple[str, ...]:
    return (searchable.title, *searchable.text)


def search_vector(fields: tuple[str, ...]):
    """The matching expression; the GIN index is built on exactly this (same SQL)."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector(*fields, config=CONFIG)


def search_index_operation(*, app_label: str, model_name: str, fields: tuple[str, ...], name: str):
    """A migration operation adding the GIN expression index of `search_vector(fields)` on
    PostgreSQL and nothing elsewhere (the SQLite fallback scans). It is not in Meta.indexes, so
    makemigrations leaves it alone and the SQLite schema stays portable."""
    from django.db import migrations

    def _index():
        from django.contrib.postgres.indexes import GinIndex

        return GinIndex(search_vector(fields), name=name)

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(apps.get_model(app_label, model_name), _index())

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_index(apps.get_model(app_label, model_name), _index())

    return migrations.RunPython(forwards, backwards, elidable=False)


def _matching(searchable: Searchable, words: list[str], workspace_ids: list[int]):
    qs = searchable.queryset().filter(**{f"{searchable.workspace}__in": workspace_ids})
    fields = search_vector_fields(searchable)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        query = SearchQuery(search_tsquery(words), search_type="raw", config=CONFIG)
        weighted = SearchVector(searchable.title, weight="A", config=CONFIG)
        for field in searchable.text:
            weighted = weighted + SearchVector(field, weight="B", config=CONFIG)
        return (qs.annotate(_document=search_vector(fields)).filter(_document=query)
                .annotate(_rank=SearchRank(weighted, query)))
    # SQLite fallback: each word somewhere; a title holding every word ranks first.
    for word in words:
        qs = qs.filter(Q.create([(f"{f}__icontains", word) for f in fields], connector=Q.OR))
    in_title = Q.create([(f"{searchable.title}__icontains", w) for w in words])
    return qs.annotate(_rank=Case(When(in_title, then=Value(1.0)), default=Value(0.5), output_field=FloatField()))


def search(*, user, q: str, per_kind: int = 5, kinds: list[str] | None = None) -> list[SearchHit]:
    """What the user may see that matches `q`: at most `per_kind` hits of each registered kind
    (one query each), best rank first; ties keep the registry's order (products, then
    initiatives, ...). An empty query finds nothing."""
    words = search_words(q)
    workspace_ids = workspace_ids_for(user)
    if not words or not workspace_ids:
        return []
    hits: list[SearchHit] = []
    for searchable in searchables():
        if kinds and searchable.kind not in kinds:
            continue
        rows = (_matching(searchable, words, workspace_ids)
                .order_by(F("_rank").desc(), "pk")
                .values("_rank", *searchable.values)[:per_kind])
        for row in rows:
            title, subtitle, url = searchable.show(row)
            hits.append(SearchHit(kind=searchable.kind, label=searchable.label, title=title,
                                  subtitle=subtitle, url=url, rank=round(float(row["_rank"]), 6)))
    order = {s.kind: i for i, s in enumerate(searchables())}
    return sorted(hits, key=lambda h: (-h.rank, order[h.kind]))
