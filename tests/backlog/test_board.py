"""Status board pages (backlog and iteration) and the one status-change endpoint behind their
drag and drop and status menus (docs/backlog.md, "Status board")."""

from datetime import date

import pytest
from django.urls import reverse

from backlog import services
from backlog.models import Story
from backlog.selectors import BOARD_COLUMN_LIMIT
from delivery import services as delivery_services
from delivery.models import StoryStatusEvent
from pmhub.models import Activity

from .factories import make_stories

pytestmark = pytest.mark.django_db
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
WORKFLOW = [
    {"key": "backlog", "label": "Backlog", "category": "todo"},
    {"key": "doing", "label": "Doing", "category": "active"},
    {"key": "shipped", "label": "Shipped", "category": "done"},
    {"key": "dropped", "label": "Dropped", "category": "excluded"},
]


def url(name, product, ws="acme", **kw):
    return reverse(f"backlog:{name}", kwargs={"ws": ws, "product_id": product.id, **kw})


def columns_in_page(content: bytes) -> list[str]:
    html = content.decode()
    return [part.split('"', 1)[0] for part in html.split('data-testid="column-')[1:]]


def test_board_columns_follow_the_workflow_order_with_labels_and_counts(client_as, admin, product):
    services.settings_update(actor=admin, product=product, workflow=WORKFLOW)
    make_stories(product, 3, actor=admin, status="doing", points=2)
    make_stories(product, 1, actor=admin, status="dropped")

    response = client_as(admin).get(url("board", product))

    assert response.status_code == 200
    assert columns_in_page(response.content) == ["backlog", "doing", "shipped", "dropped"]
    html = response.content.decode()
    for label in ("Backlog", "Doing", "Shipped", "Dropped"):
        assert f">{label}</h2>" in html
    assert 'data-count="3" title="3 stories, 6 points"' in html
    assert 'data-count="0"' in html
    # the excluded category starts folded, the others open
    assert 'data-testid="column-dropped">' in html
    assert 'data-testid="column-doing" open>' in html
    assert html.count('class="bd-card"') == 4


@pytest.mark.parametrize("n", [40, 160])
def test_board_query_count_does_not_grow_with_cards(client_as, admin, product, n, django_assert_max_num_queries):
    epic = services.epic_create(actor=admin, product=product, title="Checkout")
    make_stories(product, n, actor=admin, epic_id=epic.id, assignee_id=admin.id, points=3)
    client = client_as(admin)
    client.get(url("board", product))  # session and unread count cached from here on
    with django_assert_max_num_queries(6):
        response = client.get(url("board", product))
    assert response.status_code == 200
    # all in the first column ("Idea"), which shows only its first cards and offers the rest
    assert response.content.count(b'class="bd-card"') == min(n, BOARD_COLUMN_LIMIT)
    assert (b'class="bd-more"' in response.content) == (n > BOARD_COLUMN_LIMIT)
    assert b"Epic: Checkout" in response.content


def test_show_more_returns_the_next_cards_of_one_column(client_as, admin, product):
    make_stories(product, BOARD_COLUMN_LIMIT + 5, actor=admin)
    response = client_as(admin).get(url("board_more", product), {"status": "idea", "offset": BOARD_COLUMN_LIMIT})
    assert response.status_code == 200
    assert response.content.count(b'class="bd-card"') == 5
    assert response["X-Board-Has-More"] == "0"
    assert f"Story {BOARD_COLUMN_LIMIT + 1}<".encode() in response.content


def test_show_more_refuses_a_status_the_workflow_lacks(client_as, admin, product):
    response = client_as(admin).get(url("board_more", product), {"status": "nope", "offset": 0})
    assert response.status_code == 400
    assert "“nope”" in response.content.decode()


def test_iteration_board_shows_only_the_iterations_stories(client_as, admin, product, django_assert_max_num_queries):
    inside, outside = make_stories(product, 2, actor=admin)
    iteration = delivery_services.iteration_create(actor=admin, product=product, name="Sprint 7",
                                                   start_date=date(2026, 8, 3), end_date=date(2026, 8, 14))
    delivery_services.iteration_add_story(actor=admin, iteration=iteration, story_id=inside.id)

    client = client_as(admin)
    client.get(url("board", product))  # session and unread count cached from here on
    with django_assert_max_num_queries(7):  # the board's six and the iteration
        response = client.get(url("iteration_board", product, iteration_id=iteration.id))

    assert response.status_code == 200
    assert f'data-testid="card-{inside.id}"'.encode() in response.content
    assert f'data-testid="card-{outside.id}"'.encode() not in response.content
    assert b"Sprint 7: board" in response.content
    more = client_as(admin).get(url("board_more", product), {"status": "idea", "offset": 0, "iteration": iteration.id})
    assert more.content.count(b'class="bd-card"') == 1
    board_url = url("iteration_board", product, iteration_id=iteration.id)
    assert f'name="next" value="{board_url}"'.encode() in more.content  # a plain post returns to this board
    plan = client_as(admin).get(reverse("delivery:iteration", kwargs={"ws": "acme", "product_id": product.id,
                                                                       "iteration_id": iteration.id}))
    assert url("iteration_board", product, iteration_id=iteration.id).encode() in plan.content


def test_iteration_of_another_product_is_404(client_as, admin, product, workspace):
    from roadmaps.models import Product

    other = Product.objects.create(workspace=workspace, name="Other")
    iteration = delivery_services.iteration_create(actor=admin, product=other, name="S", start_date=date(2026, 8, 3),
                                                   end_date=date(2026, 8, 14))
    assert client_as(admin).get(url("iteration_board", product, iteration_id=iteration.id)).status_code == 404


def test_viewer_sees_the_board_without_status_menus(client_as, viewer, admin, product):
    make_stories(product, 2, actor=admin)
    response = client_as(viewer).get(url("board", product))
    assert response.status_code == 200
    assert response.content.count(b'class="bd-card"') == 2
    assert b'name="status"' not in response.content


def test_board_is_in_the_backlog_section_of_the_product_menu(client_as, admin, product):
    response = client_as(admin).get(url("board", product))
    assert f'href="{url("board", product)}" aria-current="page"'.encode() in response.content


# The status change endpoint


def test_status_change_sets_status_through_the_status_service(client_as, editor, admin, product):
    services.settings_update(actor=admin, product=product, workflow=WORKFLOW)
    story = make_stories(product, 1, actor=admin, status="doing")[0]

    response = client_as(editor).post(url("story_status", product, story_id=story.id),
                                      {"status": "shipped", "version": story.version}, **FETCH)

    assert response.status_code == 200
    assert response.json() == {"id": story.id, "status": "shipped", "status_label": "Shipped",
                               "version": story.version + 1}
    story.refresh_from_db()
    assert (story.status, story.version) == ("shipped", 2)
    assert story.done_at is not None  # "shipped" is in the done category of this workflow
    event = StoryStatusEvent.objects.filter(story=story).last()
    assert (event.old_status, event.new_status) == ("doing", "shipped")
    assert Activity.objects.filter(verb="updated story", target_id=story.id, actor=editor).exists()


def test_status_change_without_script_redirects_back_with_a_message(client_as, editor, admin, product):
    story = make_stories(product, 1, actor=admin)[0]
    board = url("board", product)
    response = client_as(editor).post(url("story_status", product, story_id=story.id),
                                      {"status": "ready", "version": story.version, "next": board}, follow=True)
    assert response.redirect_chain[-1][0] == board
    assert "moved to Ready" in response.content.decode()
    story.refresh_from_db()
    assert story.status == "ready"


def test_stale_version_is_409_with_the_current_state_and_changes_nothing(client_as, editor, admin, product):
    story = make_stories(product, 1, actor=admin)[0]
    services.story_status_set(actor=admin, story=story, status="ready", version=story.version)

    response = client_as(editor).post(url("story_status", product, story_id=story.id),
                                      {"status": "done", "version": 1}, **FETCH)

    assert response.status_code == 409
    assert "changed" in response.json()["detail"]
    assert response.json()["current"]["status"] == "ready"
    story.refresh_from_db()
    assert (story.status, story.version) == ("ready", 2)


def test_unknown_status_is_400_naming_it_and_changes_nothing(client_as, editor, admin, product):
    story = make_stories(product, 1, actor=admin)[0]
    response = client_as(editor).post(url("story_status", product, story_id=story.id),
                                      {"status": "shipped", "version": story.version}, **FETCH)
    assert response.status_code == 400
    assert "“shipped” is not a status of this product's workflow" in response.json()["detail"]
    assert "status" in response.json()["errors"]
    story.refresh_from_db()
    assert (story.status, story.version) == ("idea", 1)


def test_viewer_cannot_change_a_status(client_as, viewer, admin, product):
    story = make_stories(product, 1, actor=admin)[0]
    response = client_as(viewer).post(url("story_status", product, story_id=story.id),
                                      {"status": "ready", "version": story.version}, **FETCH)
    assert response.status_code == 403
    story.refresh_from_db()
    assert (story.status, story.version) == ("idea", 1)


def test_story_of_another_workspace_is_404(client_as, editor, foreign_product, foreign_story):
    response = client_as(editor).post(url("story_status", foreign_product, ws="globex", story_id=foreign_story.id),
                                      {"status": "ready", "version": 1}, **FETCH)
    assert response.status_code == 404
    assert Story.objects.get(id=foreign_story.id).status == "idea"
    # nor through this workspace's URL
    assert client_as(editor).get(url("board", foreign_product, ws="globex")).status_code == 404


@pytest.mark.parametrize("status, version", [("\x00", "1"), ("x" * 5000, "1"), ("ready", "99999999999999999999"),
                                             ("ready", "NaN"), ("ready", "-1")])
def test_hostile_status_input_is_refused_without_a_500(client_as, editor, admin, product, status, version):
    story = make_stories(product, 1, actor=admin)[0]
    response = client_as(editor).post(url("story_status", product, story_id=story.id),
                                      {"status": status, "version": version}, **FETCH)
    assert response.status_code in (400, 409)
    story.refresh_from_db()
    assert (story.status, story.version) == ("idea", 1)


@pytest.mark.parametrize("params", [{"offset": "99999999999999999999"}, {"offset": "x"}, {"iteration": "99999999999999999999"},
                                    {"iteration": "abc"}, {"status": "\x00"}])
def test_hostile_show_more_input_is_refused_or_empty_without_a_500(client_as, admin, product, params):
    make_stories(product, 2, actor=admin)
    response = client_as(admin).get(url("board_more", product), {"status": "idea", **params})
    assert response.status_code in (200, 400, 404)
