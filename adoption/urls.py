"""Pages of this app, mounted under /w/<ws>/ (see pmhub/urls.py)."""

urlpatterns: list = []
