"""The patient report as a standalone HTML document and as a PDF (WeasyPrint).

The PDF is rendered from the same body template as the report page, with a
print stylesheet, so the two never say different things. WeasyPrint is imported
on first use: it needs the system's Pango library, and the rest of the web app
(and its tests) must work on a machine without it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .content import PatientReport, long_date

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

_env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]))
_env.filters["long_date"] = long_date


def report_document(report: PatientReport, *, generated: dt.date | None = None) -> str:
    """The whole report as one HTML document (what the PDF is made from)."""
    template = _env.get_template("report/document.html")
    return template.render(r=report, generated=generated or dt.date.today(), standalone=True)


def report_pdf(report: PatientReport, *, generated: dt.date | None = None) -> bytes:
    """The report as PDF bytes (A4, with page numbers and the disclaimer on every page).

    PDF/UA-1: tagged (headings, lists, tables as structure a screen reader follows), with the
    document's title and language in its metadata.
    """
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    html = HTML(string=report_document(report, generated=generated), base_url=str(STATIC_DIR) + "/")
    stylesheet = CSS(filename=str(STATIC_DIR / "report.css"), font_config=fonts)
    return html.write_pdf(stylesheets=[stylesheet], font_config=fonts, pdf_variant="pdf/ua-1")
