def panels(request, workspace) -> list[dict]:
    """Panels this app adds to the workspace home page (see pmhub/home.py): products with progress."""
    from .selectors import products_with_progress

    return [{"title": "Products", "template": "roadmaps/_home_panel.html",
             "context": {"products": products_with_progress(workspace=workspace), "ws": workspace.slug}}]
