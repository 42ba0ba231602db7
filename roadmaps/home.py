def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): the workspace's products
    with a progress summary. No panel for a workspace without products (the home page then shows
    its welcome text)."""
    from backlog.selectors import attach_product_progress

    from .selectors import products_with_initiative_counts

    products = products_with_initiative_counts(workspace=workspace)
    attach_product_progress(products)
    if not products:
        return []
    return [{"title": "Products", "template": "roadmaps/_home_panel.html",
             "context": {"products": products, "ws": workspace.slug}}]
