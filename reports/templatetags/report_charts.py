"""{% report_chart spec mode %}: a chart of a report (pmhub.charts) with its title and text summary.

mode "svg": inline SVG (web page); "pdf": inline SVG of a fixed width, in the e-mail's styles (the
PDF is printed from the e-mail's HTML); "cid": an <img> of the PNG attached to the e-mail under
Content-ID `chart_cid(spec)` (mail clients do not show inline SVG). The SVG and every attribute
are built from escaped text only.
"""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from pmhub import charts

register = template.Library()
COLUMN_WIDTH = PDF_WIDTH = 590  # the e-mail's 640 px column less its padding


def chart_cid(spec: dict) -> str:
    """The Content-ID of a chart's PNG in the report e-mail (without angle brackets)."""
    return f"chart-{spec.get('id', 'chart')}@pmhub"


@register.simple_tag
def report_chart(spec: dict, mode: str = "svg"):
    if mode == "cid":
        # Outlook sizes an image by its width attribute alone: the column's width, not the PNG's.
        png_width, png_height = charts.png_size(spec)
        width, height = COLUMN_WIDTH, round(COLUMN_WIDTH * png_height / png_width)
        return format_html(
            '<div style="margin:10px 0 4px;"><p style="margin:0 0 4px; font-size:14px; font-weight:bold;">{}</p>'
            '<img src="cid:{}" alt="{}" width="{}" height="{}" style="display:block; width:100%; max-width:{}px;'
            ' height:auto; border:0;"><p style="margin:4px 0 0; font-size:12px; color:#6b7280;">{}</p></div>',
            spec.get("title", ""), chart_cid(spec), spec.get("summary", ""), width, height, width,
            spec.get("summary", ""))
    if mode == "pdf":
        return format_html(
            '<div style="margin:10px 0 4px; page-break-inside:avoid;"><p style="margin:0 0 4px; font-size:14px;'
            ' font-weight:bold;">{}</p>{}<p style="margin:4px 0 0; font-size:12px; color:#6b7280;">{}</p></div>',
            spec.get("title", ""), mark_safe(charts.svg(spec, width=PDF_WIDTH)), spec.get("summary", ""))
    return format_html(
        '<figure class="report-chart" data-testid="report-chart" data-chart="{}"><figcaption>{}</figcaption>'
        '<div class="report-chart-box">{}{}</div><p class="report-chart-summary">{}</p></figure>',
        spec.get("id", ""), spec.get("title", ""), mark_safe(charts.svg(spec)),
        mark_safe(charts.svg(spec, narrow=True)), spec.get("summary", ""))
