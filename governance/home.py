def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): risks above appetite."""
    from roadmaps.models import Product

    from .selectors import above_appetite_for_products, risk_summary

    products = Product.objects.alive().filter(workspace=workspace)
    summary = risk_summary(products=products)
    if not summary["open"]:
        return []
    return [{"title": "Risks above appetite", "template": "governance/_home_panel.html",
             "context": {"summary": summary, "items": above_appetite_for_products(products=products)[:5],
                         "ws": workspace.slug}}]
