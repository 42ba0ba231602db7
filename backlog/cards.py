"""The status board's cards printed by Python, not by a template loop (issue 23, target 3;
docs/decisions/2010-status-board-cards-in-python.md).

The board shows 20 cards in each of its six columns; with every value prepared as text
(selectors.with_texts, decision 1920), Django's engine still spent about 10 µs per variable node,
~20 nodes a card: two thirds of the page. Cards are named rows (selectors.CARD_ROW), not models.
The markup is what templates/backlog/_board_cards.html's
loop printed, byte for byte (tests/backlog/test_board_cards_html.py keeps that loop as template
text and compares both renderings of the same cards: editable or not, with and without points,
score, assignee and epic, titles with every character autoescape changes). Change it here, not in
a template. Every value goes through `esc` (autoescape's rule: safe strings as they are, anything
else `html.escape`d, which is what django.utils.html.escape does).
"""

from django.utils.safestring import mark_safe

from pmhub.formatting import number
from pmhub.htmltext import esc
from pmhub.models import display_name_of
from pmhub.templatetags.pmhub import select_options


class BoardCards:
    """Prints cards for one page: what is the same for every card (the URL prefix, the CSRF token,
    the board's URL, the status `<option>`s per status) is escaped or built once."""

    def __init__(self, *, statuses, can_edit: bool, stories_url: str, csrf_token, board_url: str):
        self.statuses = statuses
        self.can_edit = can_edit
        self.stories_url = esc(stories_url)
        self.csrf_token = esc(csrf_token) if can_edit else ""
        self.board_url = esc(board_url)
        self._options: dict[str, str] = {}

    def options(self, status: str) -> str:
        """`{% select_options statuses story.status %}`, once per status a page shows."""
        found = self._options.get(status)
        if found is None:
            found = self._options[status] = str(select_options(self.statuses, status))
        return found

    def card(self, story) -> str:
        """One `<li>`: a CARD_ROW row of selectors.story_board or board_column_more."""
        sid = str(story.id)
        title = esc(story.title)
        url = f"{self.stories_url}{sid}/"
        points = story.points
        points_text = "" if points is None else str(points)
        plural = "" if points == 1 else "s"  # {{ story.points|pluralize }}
        points_tag = ("" if points is None else
                      f'<span class="tag" title="Story points">{points_text} pt{plural}</span>')
        score_tag = ("" if story.score is None else
                     f'<span class="tag" title="Score">Score {esc(number(story.score))}</span>')
        assignee_tag = ("" if story.assignee_id is None else
                        f"<span>{esc(display_name_of(story.assignee__name, story.assignee__email))}</span>")
        epic_tag = "" if story.epic_id is None else f'<span class="muted">Epic: {esc(story.epic__title)}</span>'
        version = str(story.version)
        status_attr = form = ""
        if self.can_edit:
            status_attr = f' data-status-url="{url}status/"'
            form = (f'\n  <form method="post" action="{url}status/" class="bd-status-form"><input type="hidden" '
                    f'name="csrfmiddlewaretoken" value="{self.csrf_token}">\n'
                    f'    <input type="hidden" name="version" value="{version}"><input type="hidden" name="next" '
                    f'value="{self.board_url}">\n'
                    f'    <label class="visually-hidden" for="st-{sid}">Status of “{title}”</label>\n'
                    f'    <select id="st-{sid}" name="status">{self.options(story.status)}</select>\n'
                    f'    <button type="submit" class="secondary outline bd-status-save">Move</button>\n'
                    f'  </form>')
        return (f'\n<li class="bd-card" data-id="{sid}" data-live-item="story:{sid}" data-version="{version}" '
                f'data-points="{points_text or "0"}" data-testid="card-{sid}"{status_attr}>\n'
                f'  <a class="bd-card-title" href="{url}">{title}</a>\n'
                f'  <p class="bd-card-meta"><small>\n'
                f'    {points_tag}\n'
                f'    {score_tag}\n'
                f'    {assignee_tag}\n'
                f'    {epic_tag}\n'
                f'  </small></p>\n'
                f'  {form}\n'
                f'</li>')

    def html(self, stories) -> str:
        """The `<li>`s of a column, or of the next cards "Show more" fetches (backlog/_board_cards.html prints them)."""
        return mark_safe("".join(self.card(s) for s in stories))  # noqa: S308 - every value escaped by esc()
