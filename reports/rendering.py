"""Turn report data (the dict of `services.report_build`) into an e-mail, a page or a PDF.

All user text goes through Django's autoescaping; the one thing marked safe is a chart's SVG, which
pmhub.charts builds from escaped text only.
"""

from email.mime.image import MIMEImage

from django.template.loader import render_to_string

from pmhub import charts
from pmhub.utils import mail_subject

from .templatetags.report_charts import chart_cid


def report_render(data: dict, *, fmt: str = "html", unsubscribe_url: str = "", chart_mode: str = "cid") -> str:
    """fmt: "html" (inline-styled e-mail, also the PDF source), "text" (plain-text alternative).
    chart_mode (html): "cid" (the e-mail: <img> of the PNG parts of `report_chart_images`) or
    "pdf" (vector charts drawn by WeasyPrint)."""
    context = {"report": data, "sections": {s["key"]: s for s in data.get("sections", [])},
               "unsubscribe_url": unsubscribe_url, "chart_mode": chart_mode}
    template = {"html": "emails/report.html", "text": "emails/report.txt"}[fmt]
    return render_to_string(template, context)


def report_pdf(data: dict) -> bytes:
    """PDF of the report, rendered by WeasyPrint from the e-mail's HTML (tables print well)."""
    from weasyprint import HTML

    return HTML(string=report_render(data, fmt="html", chart_mode="pdf")).write_pdf()


def report_charts(data: dict) -> list[dict]:
    """Every chart spec of the report, in the order they are shown."""
    return [c for s in data.get("sections", []) for c in (s.get("data") or {}).get("charts", [])]


def report_chart_images(data: dict) -> list[MIMEImage]:
    """The PNG of each chart as an inline MIME part with the Content-ID its <img> names. Drawn in
    the worker that sends the e-mail (Pillow, about 70 ms a chart)."""
    parts = []
    for spec in report_charts(data):
        part = MIMEImage(charts.png(spec), "png")
        part.add_header("Content-ID", f"<{chart_cid(spec)}>")
        part.add_header("Content-Disposition", "inline", filename=f"{spec['id']}.png")
        parts.append(part)
    return parts


def report_subject(data: dict) -> str:
    return mail_subject(f"{data['title']} ({data['period_label']})")
