"""The plain-language patient report: content built from an assessment, rendered to HTML and PDF."""

from .content import PatientReport, build_report, questions_for
from .render import report_document, report_pdf

__all__ = ["PatientReport", "build_report", "questions_for", "report_document", "report_pdf"]
