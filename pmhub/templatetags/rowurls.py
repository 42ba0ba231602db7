"""`{% row_url %}`: the URL of a row in a list, reversed once per route and page (decision 1955)."""

from django import template

from pmhub.utils import url_for_ids

register = template.Library()


@register.simple_tag(takes_context=True)
def row_url(context, viewname, id_kwarg, pk, **kwargs):
    """`{% row_url 'governance:risk' 'risk_id' r.id ws=ws product_id=r.product_id %}`: the same URL
    as `{% url 'governance:risk' ws=ws product_id=r.product_id risk_id=r.id %}`, for a list of
    rows. `{% url %}` walks the resolver for every row (100 risks, 30 KPI tiles and 20 statements
    on a dashboard); this tag reverses each route once per page and set
    of other arguments (pmhub.utils.url_for_ids) and puts the row's id in. The memo lives on the
    request (or, without one, on the template's render context), so includes share it."""
    holder = context.get("request")
    memo = getattr(holder, "_row_urls", None) if holder is not None else None
    if memo is None:
        memo = {}
        if holder is not None:
            holder._row_urls = memo
        else:
            memo = context.render_context.setdefault("_row_urls", memo)
    key = (viewname, id_kwarg, tuple(sorted(kwargs.items())))
    url = memo.get(key)
    if url is None:
        url = memo[key] = url_for_ids(viewname, id_kwarg, **kwargs)
    return url(pk)
