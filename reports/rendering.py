"""Turn report data (the dict of `services.report_build`) into an e-mail, a page or a PDF.

All user text goes through Django's autoescaping; nothing in these templates is marked safe.
"""

from django.template.loader import render_to_string

from pmhub.utils import mail_subject


def report_render(data: dict, *, fmt: str = "html", unsubscribe_url: str = "") -> str:
    """fmt: "html" (inline-styled e-mail, also the PDF source), "text" (plain-text alternative)."""
    context = {"report": data, "sections": {s["key"]: s for s in data.get("sections", [])},
               "unsubscribe_url": unsubscribe_url}
    template = {"html": "emails/report.html", "text": "emails/report.txt"}[fmt]
    return render_to_string(template, context)


def report_pdf(data: dict) -> bytes:
    """PDF of the report, rendered by WeasyPrint from the e-mail's HTML (tables print well)."""
    from weasyprint import HTML

    return HTML(string=report_render(data, fmt="html")).write_pdf()


def report_subject(data: dict) -> str:
    return mail_subject(f"{data['title']} ({data['period_label']})")
