"""Adoption pages under /w/<ws>/products/<product_id>/: feature table, feature detail (charts),
outcome review and ingestion keys."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from pmhub.clock import today_in
from pmhub.errors import Conflict
from pmhub.models import Role
from pmhub.utils import version_read
from pmhub.views import form_conflict, form_errors_from
from roadmaps.pages import ProductPageMixin

from . import analytics, selectors, services, table_html
from .forms import FeatureEditForm, FeatureForm, IngestionKeyForm
from .models import IngestionKey

WINDOWS = {"7": 7, "28": 28}
SERIES_DAYS = 90


class AdoptionView(ProductPageMixin, View):
    """The product's features, sortable by adoption and by trend (change vs the previous window)."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, form=None, status=200):
        window = WINDOWS.get(request.GET.get("window", ""), analytics.ADOPTION_WINDOW_DAYS)
        table = selectors.adoption_table(product=self.product, window=window, sort=request.GET.get("sort", "adoption"))
        rows_html = table_html.feature_rows_html(table["rows"], workspace_slug=self.workspace.slug,
                                                 product_id=self.product.id)
        context = self.get_context_data(table=table, rows_html=rows_html,
                                        form=form or FeatureForm(product=self.product), nav_section="adoption")
        return render(request, "adoption/adoption.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        form = FeatureForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                feature = services.feature_create(user=request.user, product=self.product, **form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Feature “{feature.label}” added.")
                return redirect("adoption_feature", ws=ws, product_id=product_id, feature_id=feature.id)
        return self._render(request, form=form, status=400)


class FeatureAdoptionView(ProductPageMixin, View):
    """One feature: adopters over time, adoption % against target, retention curve."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, feature, form=None, status=200):
        end = today_in(self.workspace.time_zone)
        start = end - timedelta(days=SERIES_DAYS - 1)
        series = selectors.feature_series(feature=feature, start=start, end=end)
        figures = selectors.adoption_by_feature(product_id=self.product.id, end=end).get(feature.id, {})
        retention = selectors.feature_retention(feature=feature, end=end)
        target = feature.target
        chart = {
            "days": [r["day"].isoformat() for r in series],
            "users": [r["users"] for r in series],
            "users_7d": [r["users_7d"] for r in series],
            "adoption": [r["adoption_percent"] for r in series],
            "target": float(target) if target is not None else None,
            "retention": [{"week": p["week"], "share": p["share"]} for p in retention["combined"]],
        }
        form = form or FeatureEditForm(product=self.product, initial=FeatureEditForm.initial_for(feature))
        context = self.get_context_data(feature=feature, figures=figures, retention=retention, chart=chart,
                                        form=form, nav_section="adoption", series_days=SERIES_DAYS)
        return render(request, "adoption/feature.html", context, status=status)

    def _feature(self, feature_id):
        return selectors.feature_for_user(user=self.request.user, feature_id=feature_id, product=self.product)

    def get(self, request, ws, product_id, feature_id):
        return self._render(request, self._feature(feature_id))

    def post(self, request, ws, product_id, feature_id):
        feature = self._feature(feature_id)
        form = FeatureEditForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                services.feature_update(user=request.user, feature=feature, data=form.cleaned_data,
                                        version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "feature")
                return self._render(request, self._feature(feature_id), form=form, status=409)
            else:
                messages.success(request, "Feature saved.")
                return redirect("adoption_feature", ws=ws, product_id=product_id, feature_id=feature.id)
        return self._render(request, feature, form=form, status=400)


class OutcomesView(ProductPageMixin, View):
    """Shipped work, predicted vs measured, and how well past scores predicted outcomes."""

    required_role = Role.VIEWER

    def get(self, request, ws, product_id):
        reviews = selectors.outcome_reviews_for_user(user=request.user).filter(product=self.product)
        rows = selectors.review_rows(reviews)
        context = self.get_context_data(rows=rows, calibration=selectors.outcome_calibration(rows),
                                        nav_section="outcomes")
        return render(request, "adoption/outcomes.html", context)


class IngestionKeysView(ProductPageMixin, View):
    """Admins create (shown once) and revoke the product's ingestion keys."""

    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, request, form=None, new_key=None, status=200):
        context = self.get_context_data(keys=selectors.ingestion_keys_for_product(product=self.product),
                                        form=form or IngestionKeyForm(), new_key=new_key, nav_section="adoption")
        return render(request, "adoption/keys.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        form = IngestionKeyForm(request.POST)
        if form.is_valid():
            try:
                _, raw = services.ingestion_key_create(user=request.user, product=self.product,
                                                       name=form.cleaned_data["name"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                return self._render(request, new_key=raw)
        return self._render(request, form=form, status=400)


class IngestionKeyRevokeView(ProductPageMixin, View):
    write_role = Role.ADMIN

    def post(self, request, ws, product_id, key_id):
        key = get_object_or_404(IngestionKey.objects.select_related("product"), pk=key_id, product=self.product)
        services.ingestion_key_revoke(user=request.user, key=key)
        messages.success(request, f"Ingestion key “{key.name}” revoked.")
        return redirect("adoption_keys", ws=ws, product_id=product_id)
