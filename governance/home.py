def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): statements awaiting the
    current user's approval, and risks above appetite."""
    from pmhub.access import role_in
    from roadmaps.models import Product

    from .selectors import above_appetite_rows_for_products, risk_summary, statements_awaiting_decision

    products = Product.objects.alive().filter(workspace=workspace)
    panels = []
    awaiting = statements_awaiting_decision(user=request.user, role=role_in(request.user, workspace.id),
                                            products=products)
    if awaiting:
        panels.append({"title": "Awaiting your approval", "template": "governance/_awaiting_panel.html",
                       "context": {"items": awaiting, "ws": workspace.slug}})
    summary = risk_summary(products=products)
    if summary["open"]:
        items = above_appetite_rows_for_products(products=products, limit=5)
        panels.append({"title": "Risks above appetite", "template": "governance/_home_panel.html",
                       "context": {"summary": summary, "items": items, "ws": workspace.slug}})
    return panels
