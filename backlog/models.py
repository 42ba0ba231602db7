"""Backlog tables: epics and stories."""

from django.conf import settings
from django.db import models

# Status keys of the default workflow; "done" counts toward progress, "wont_do" is left out.
DEFAULT_WORKFLOW = [
    ("idea", "Idea"),
    ("ready", "Ready"),
    ("in_progress", "In progress"),
    ("in_review", "In review"),
    ("done", "Done"),
    ("wont_do", "Won't do"),
]
DONE_STATUSES = frozenset({"done"})
EXCLUDED_STATUSES = frozenset({"wont_do"})


class Epic(models.Model):
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="epics")
    initiative = models.ForeignKey("roadmaps.Initiative", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="epics")
    release = models.ForeignKey("roadmaps.Release", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="epics")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=30, default="idea")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title


class Story(models.Model):
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="stories")
    epic = models.ForeignKey(Epic, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=30, default="idea")
    points = models.PositiveSmallIntegerField(null=True, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "stories"

    def __str__(self):
        return self.title
