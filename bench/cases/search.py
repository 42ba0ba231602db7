"""Search (pmhub.search): the header box's API and the search page over the generated backlog.

The stories come from the backlog case (titles "As a <persona> I want to <action> (n)"), so a word
of an action matches about a tenth of the largest product's stories and each query ranks them all.
The bare SQL is the story kind's full-text query alone (the same WHERE, rank and LIMIT) on PostgreSQL,
or the same LIKE on SQLite: the floor of the biggest of the per-kind queries.
"""

from bench.harness import Result, guarded, measure_request, model

NAME = "search"
ORDER = 60
REQUIRES = ("backlog.Story",)
MEASURES = ("search API, common word (type-ahead prefix)", "search API, two words", "search page (HTML)",
            "search API, no match")


def generate(ctx) -> None:
    """Nothing: it searches the rows of the other cases."""


def measure(ctx) -> list[Result]:
    return [_api(ctx, "search API, common word (type-ahead prefix)", "expor"),
            _api(ctx, "search API, two words", "import csv"),
            _page(ctx),
            _api(ctx, "search API, no match", "zebra")]


def pages(ctx) -> list[tuple[str, str]]:
    return [("search page", "/search/?q=export")]


def _bare(ctx, words: list[str]):
    Story = model("backlog.Story")
    table = Story._meta.db_table
    if ctx.vendor == "postgresql":
        tsquery = " & ".join(words[:-1] + [words[-1] + ":*"])
        document = ("to_tsvector('english'::regconfig, COALESCE(s.\"title\", '')::text || ' ' || "
                    "COALESCE(s.\"description\", '')::text)")
        weighted = ("setweight(to_tsvector('english'::regconfig, COALESCE(s.\"title\", '')), 'A') || "
                    "setweight(to_tsvector('english'::regconfig, COALESCE(s.\"description\", '')), 'B')")
        sql = (f'SELECT s."id", s."title", ts_rank({weighted}, to_tsquery(\'english\'::regconfig, %s)) AS r '
               f'FROM "{table}" s JOIN "roadmaps_product" p ON p."id" = s."product_id" '
               f'WHERE p."workspace_id" = %s AND p."deleted_at" IS NULL '
               f"AND {document} @@ to_tsquery('english'::regconfig, %s) ORDER BY r DESC, s.\"id\" LIMIT 5")
        return sql, [tsquery, ctx.workspace.pk, tsquery]
    likes = " AND ".join('(s."title" LIKE %s OR s."description" LIKE %s)' for _ in words)
    sql = (f'SELECT s."id", s."title" FROM "{table}" s JOIN "roadmaps_product" p ON p."id" = s."product_id" '
           f'WHERE p."workspace_id" = %s AND p."deleted_at" IS NULL AND {likes} ORDER BY s."id" LIMIT 5')
    return sql, [ctx.workspace.pk] + [f"%{w}%" for w in words for _ in (0, 1)]


def _matches(ctx, words: list[str]) -> int:
    from django.db.models import Q

    Story = model("backlog.Story")
    qs = Story.objects.filter(product__workspace=ctx.workspace)
    for w in words:
        qs = qs.filter(Q(title__icontains=w) | Q(description__icontains=w))
    return qs.count()


def _api(ctx, name: str, q: str) -> Result:
    @guarded(name, case=NAME)
    def run(ctx) -> Result:
        words = q.split()
        return measure_request(
            ctx, name=name, path=f"/api/v1/search/?q={q.replace(' ', '+')}", client=ctx.api(), case=NAME,
            bare=_bare(ctx, words),
            note=f"{_matches(ctx, words)} stories match {q!r} (substring count); 7 kinds, 5 hits each; informational",
        )

    return run(ctx)


@guarded("search page (HTML)", case=NAME)
def _page(ctx) -> Result:
    return measure_request(
        ctx, name="search page (HTML)", path="/search/?q=export", case=NAME, bare=_bare(ctx, ["export"]),
        note="20 hits per kind, grouped; informational",
    )
