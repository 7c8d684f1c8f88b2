"""Reports: grades.csv, Gradescope results.json, feedback and summary (Jinja2 templates).

Templates over plain results: ``grader.report.view`` prepares the values the templates print,
the templates in ``grader/templates/`` only loop and branch.
"""

from __future__ import annotations

from grader.report.table import grades_csv, score_table
from grader.report.write import ReportPaths, SubmissionPaths, write_reports

__all__ = ["ReportPaths", "SubmissionPaths", "grades_csv", "score_table", "write_reports"]
