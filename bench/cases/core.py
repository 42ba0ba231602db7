"""Core (foundation) pages that exist today: they prove the harness end to end.

The rows (workspace, members, memberships, API token, products) are made by
bench.generate.generate_core before any case runs; this case only measures.
"""

from bench.harness import Result, bare_select, guarded, measure_request, model

NAME = "core"
ORDER = 0
REQUIRES = ("pmhub.Workspace", "pmhub.Membership")
MEASURES = ("workspace home (HTML)", "members page (HTML)", "workspaces (API)")


def generate(ctx) -> None:
    """Nothing beyond generate_core."""


def measure(ctx) -> list[Result]:
    return [_home(ctx), _members(ctx), _workspaces_api(ctx)]


def pages(ctx) -> list[tuple[str, str]]:
    return [("workspace home", f"/w/{ctx.workspace.slug}/")]


@guarded("workspace home (HTML)", case=NAME)
def _home(ctx) -> Result:
    Product = model("roadmaps.Product")
    return measure_request(
        ctx, name="workspace home (HTML)", path=f"/w/{ctx.workspace.slug}/", case=NAME,
        bare=bare_select(Product, where='"workspace_id" = %s AND "deleted_at" IS NULL', params=[ctx.workspace.pk],
                         order='"name"'),
        note="informational (no budget in the issue)",
    )


@guarded("members page (HTML)", case=NAME)
def _members(ctx) -> Result:
    Membership, User = model("pmhub.Membership"), model("pmhub.User")
    m, u = Membership._meta.db_table, User._meta.db_table
    sql = (f'SELECT m."id", m."role", u."id", u."email", u."name" FROM "{m}" m JOIN "{u}" u ON u."id" = m."user_id" '
           f'WHERE m."workspace_id" = %s ORDER BY u."email"')
    return measure_request(
        ctx, name="members page (HTML)", path=f"/w/{ctx.workspace.slug}/members/", case=NAME,
        bare=(sql, [ctx.workspace.pk]), note=f"{len(ctx.users)} members on one page; informational",
    )


@guarded("workspaces (API)", case=NAME)
def _workspaces_api(ctx) -> Result:
    Workspace = model("pmhub.Workspace")
    return measure_request(
        ctx, name="workspaces (API)", path="/api/v1/workspaces/", client=ctx.api(), case=NAME,
        bare=bare_select(Workspace, where='"id" = %s', params=[ctx.workspace.pk]), note="informational",
    )
