def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): the workspace's products
    with a progress summary. No panel for a workspace without products (the home page then shows
    its welcome text)."""
    from .selectors import products_with_progress

    products = products_with_progress(workspace=workspace)
    if not products:
        return []
    return [{"title": "Products", "template": "roadmaps/_home_panel.html",
             "context": {"products": products, "ws": workspace.slug}}]
