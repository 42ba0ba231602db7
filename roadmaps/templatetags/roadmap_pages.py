"""Template tags of the roadmap pages (timeline, board, list)."""

from django import template

from .. import rows

register = template.Library()


@register.simple_tag(takes_context=True)
def roadmap_header(context):
    """`{% roadmap_header %}` (roadmaps/_roadmap_header.html): the heading, the views' links and the
    filters form of the three roadmap pages, printed by roadmaps.rows.roadmap_header_html."""
    return rows.roadmap_header_html(request=context["request"], workspace=context["workspace"],
                                    product=context["product"], view=context.get("view", ""),
                                    can_edit=bool(context.get("can_edit")), filters=context["filters"])
