from django.conf import settings
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE


class CursorPagination(pagination.CursorPagination):
    """For large, growing lists (stories, events): stable under inserts, no COUNT(*)."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
    ordering = "-id"
