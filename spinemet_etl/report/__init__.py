"""The outcome report for people: `reports/report.html`, one self-contained page."""

from spinemet_etl.report.build import ReportPaths, build_report
from spinemet_etl.report.render import render_report

__all__ = ["ReportPaths", "build_report", "render_report"]
