"""Metrics tables: KPIs (measurements, health and adoption come with their issues)."""

from django.conf import settings
from django.db import models


class Kpi(models.Model):
    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=20, default="count")
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    target_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    # Latest measured value, kept current by the measurement services (key results follow it).
    current_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    current_at = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
