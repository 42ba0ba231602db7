"""Static files are served by WhiteNoise from the finders, with the file table built once per process."""

from django.test import Client

from pmhub.middleware import StaticFilesMiddleware


def test_two_middleware_chains_share_one_file_table():
    first = StaticFilesMiddleware(lambda request: None)
    second = StaticFilesMiddleware(lambda request: None)
    url = "/static/vendor/htmx/htmx.min.js"
    assert url in first.files
    assert second.files[url] is first.files[url]  # the same table, not listed and stat'ed again


def test_a_static_file_is_served_by_a_fresh_client():
    response = Client().get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content)
