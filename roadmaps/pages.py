"""Page mixin for everything under /w/<ws>/products/<product_id>/ (used by every domain app).

Kept out of views.py so that other apps' views can use it without importing roadmaps' views.
"""

from pmhub.views import WorkspacePageMixin

from .selectors import product_for_user


class ProductPageMixin(WorkspacePageMixin):
    """Resolves `self.product` inside `self.workspace`; a product of another workspace is 404.
    `product_related` names extra one-to-one relations fetched with the product (one query)."""

    product_related: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            # A method the page does not offer: WorkspacePageMixin answers 404 to a non-member and
            # 405 to a member, without resolving the product (nothing to protect, nothing to learn).
            return super().dispatch(request, *args, **kwargs)
        if request.user.is_authenticated:
            # Workspace membership is checked by WorkspacePageMixin.dispatch below; the product
            # lookup itself is scoped to the user's workspaces, so a foreign id is a 404 either way.
            self.product = self.product_of(request, kwargs)
            if self.product.workspace.slug != kwargs["ws"]:
                from django.http import Http404

                raise Http404("Not found.")
            request.workspace = self.product.workspace  # already fetched: WorkspacePageMixin reuses it
        return super().dispatch(request, *args, **kwargs)

    def product_of(self, request, kwargs):
        """The product of the URL among the user's workspaces' live products (404 otherwise), with
        its workspace. A page that has read it already overrides this (the KPI page: decision 2220)."""
        return product_for_user(user=request.user, product_id=kwargs["product_id"], related=self.product_related)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("product", self.product)
        return context
