def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): statements awaiting the
    current user's approval, and risks above appetite (the workspace's live products; queries
    compiled once: decision 2120)."""
    from pmhub.access import role_in

    from .selectors import above_appetite_rows_of, risk_summary_of, statements_awaiting_decision_of

    panels = []
    awaiting = statements_awaiting_decision_of(user=request.user, role=role_in(request.user, workspace.id),
                                               scope="workspace", scope_id=workspace.id)
    if awaiting:
        panels.append({"title": "Awaiting your approval", "template": "governance/_awaiting_panel.html",
                       "context": {"items": awaiting, "ws": workspace.slug}})
    summary = risk_summary_of(scope="workspace", scope_id=workspace.id)
    if summary["open"]:
        items = above_appetite_rows_of(scope="workspace", scope_id=workspace.id, limit=5)
        panels.append({"title": "Risks above appetite", "template": "governance/_home_panel.html",
                       "context": {"summary": summary, "items": items, "ws": workspace.slug}})
    return panels
