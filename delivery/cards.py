"""The iteration page's story cards printed by Python, not by a template per card (issue 23,
target 3; docs/decisions/2050-iteration-cards-in-python.md).

The plan shows up to 30 unplanned stories and every story of the iteration (40 at the bench's
sizes), each `{% include "delivery/_story_card.html" %}` of about 20 template nodes: most of the
page's rendering time. The markup is what that template printed, byte for byte:
tests/delivery/test_iteration_cards_html.py keeps the old template as text and compares both
renderings of the same stories (editable or not, add or remove, points or none, assignee or none,
titles with every character autoescape changes). Change the markup here, not in a template.

A card is a tuple row (CARD_FIELDS, selectors.iteration_cards / backlog_cards): no model, no
select_related of the assignee and the epic.
"""

from django.utils.html import escape

from pmhub import formatting
from pmhub.models import display_name_of

# The columns of a card row, in order (selectors.CARD_VALUES reads them).
ID, TITLE, POINTS, STATUS, ASSIGNEE_NAME, ASSIGNEE_EMAIL = range(6)


class StoryCards:
    """Prints the cards of one page: what is the same for every card (the form's URL, the CSRF
    token, the workflow labels) is escaped once. One CSRF token for all cards (decision 1920)."""

    def __init__(self, *, can_edit: bool, items_url: str, csrf_token: str, labels: dict):
        self.can_edit = can_edit
        self.labels = labels
        self.form_start = (f'  <form method="post" action="{escape(items_url)}" class="inline-form story-move">'
                           f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">\n')

    def card(self, row, action: str) -> str:
        """One `<li>` (the former delivery/_story_card.html) with action "add" or "remove"."""
        sid = str(row[ID])
        title = escape(row[TITLE])
        points = row[POINTS]
        status = row[STATUS]
        label = formatting.status_label(self.labels.get(status, status.replace("_", " ").capitalize()) or status)
        who = ""
        if row[ASSIGNEE_EMAIL] is not None:
            who = " · " + escape(display_name_of(row[ASSIGNEE_NAME], row[ASSIGNEE_EMAIL]))
        shown = "– pt" if points is None else formatting.number(points) + " pt"
        out = (f'<li class="story-card" data-story-id="{sid}" data-live-item="story:{sid}" '
               f'data-points="{"0" if points is None else points}" data-testid="story-{sid}">\n'
               f'  <span class="story-title">{title}</span>\n'
               f'  <span class="story-meta"><span class="points" title="Points">{escape(shown)}</span>'
               f'{who} · {escape(label)}</span>\n  ')
        if self.can_edit:
            verb = "Add to iteration" if action == "add" else "Remove"
            out += (f"\n{self.form_start}"
                    f'    <input type="hidden" name="story" value="{sid}"><input type="hidden" name="action" '
                    f'value="{escape(action)}">\n'
                    f'    <button type="submit" class="secondary outline small-button">{verb}'
                    f'<span class="visually-hidden"> “{title}”</span></button>\n  </form>\n  ')
        return out + "\n</li>\n"

    def cards(self, rows, action: str) -> str:
        return "".join([self.card(row, action) for row in rows])
