"""Writes jira_export.csv (cp1252, as Jira on Windows) and jira_export_bom.csv (UTF-8 with a
BOM, as Excel saves it) from the same rows. Run: python tests/delivery/data/make_fixtures.py"""

import csv
import io
from pathlib import Path

HEADERS = ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Priority", "Assignee", "Reporter",
           "Created", "Due Date", "Labels", "Labels", "Labels", "Sprint", "Sprint",
           "Custom field (Story Points)", "Custom field (Epic Link)", "Description"]
ROWS = [
    ["Analytics MVP", "ANA-1", "10001", "Epic", "In Progress", "High", "", "Ada Admin", "02/Nov/26 9:15 AM", "",
     "", "", "", "", "", "", "", "The first release."],
    ["Café signup flow", "ANA-2", "10002", "Story", "To Do", "Medium", "Ada Admin", "Ada Admin",
     "02/Nov/26 9:20 AM", "", "frontend", "signup", "", "Sprint 1", "Sprint 2", "3.0", "ANA-1",
     "Line one\nLine two — with “smart quotes”"],
    ["Export dashboard to PDF", "ANA-3", "10003", "Story", "In Progress", "High", "editor@acme.test", "Ada Admin",
     "03/Nov/26 10:00 AM", "01/Dec/26 12:00 AM", "backend", "", "", "Sprint 2", "", "5.0", "ANA-1",
     "Uses weasyprint, \"quoted\" words"],
    ["Export dashboard to PNG", "ANA-3", "10004", "Story", "To Do", "Low", "", "Ada Admin",
     "03/Nov/26 10:05 AM", "", "", "", "", "", "", "2", "", "Same key as the row above"],
    ["Nightly rollups", "ANA-5", "10005", "Story", "Done", "Medium", "", "Ada Admin", "04/Nov/26 8:00 AM",
     "31/31/2026", "backend", "", "", "", "", "3", "", ""],
    ["Retention cohorts", "ANA-6", "10006", "Story", "Backlog", "Medium", "", "Ada Admin", "04/Nov/26 8:30 AM",
     "", "", "", "", "", "", "three", "", ""],
    ["Blocked integration", "ANA-7", "10007", "Story", "Blocked", "Medium", "", "Ada Admin", "05/Nov/26 8:30 AM",
     "", "", "", "", "", "", "1", "", ""],
    ["=HYPERLINK(\"http://evil\")", "ANA-8", "10008", "Story", "Done", "Low", "editor@acme.test", "Ada Admin",
     "05/Nov/26 9:00 AM", "", "ops", "security", "csv", "", "", "2.0", "", "- starts with a dash"],
]


def main():
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(ROWS)
    text = out.getvalue()
    here = Path(__file__).parent
    (here / "jira_export.csv").write_bytes(text.encode("cp1252"))
    (here / "jira_export_bom.csv").write_bytes(text.encode("utf-8-sig"))


if __name__ == "__main__":
    main()
