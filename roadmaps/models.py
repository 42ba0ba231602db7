"""Roadmap tables. Everything in PMHub hangs from a Product, which belongs to a Workspace."""

from django.conf import settings
from django.db import models


class ProductQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class Product(models.Model):
    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=120)
    vision = models.TextField(blank=True, help_text="Markdown.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Soft delete: a deleted product can be restored for a period (see services).
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Initiative(models.Model):
    """A theme of work on the roadmap."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Horizon(models.TextChoices):
        NOW = "now", "Now"
        NEXT = "next", "Next"
        LATER = "later", "Later"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="initiatives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    horizon = models.CharField(max_length=5, choices=Horizon.choices, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_date", "id"]

    def __str__(self):
        return self.title


class Release(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        RELEASED = "released", "Released"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    release_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["release_date", "id"]

    def __str__(self):
        return self.name
