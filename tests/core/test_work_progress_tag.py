"""`{% work_progress %}` prints with f-strings what it printed with format_html (decision 1950): the
old implementation is kept here and both outputs compared, escaping included."""

import pytest
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from backlog.progress import EMPTY, Progress
from pmhub.templatetags.pmhub import work_progress


def _old(work, label="", compact=False):
    if getattr(work, "ratio", None) is None:
        return format_html('<span class="muted">{}</span>', "—" if compact else "no stories yet")
    percent = work.percent
    if compact:
        bar = tail = ""
    else:
        bar = format_html('<progress class="progress-bar" value="{}" max="100" aria-label="{}"></progress> ',
                          percent, label or "Work progress")
        tail = format_html(' <small class="muted">{}/{} pts · {}/{} stories</small>', work.done_points,
                           work.total_points, work.done_count, work.total_count)
    return format_html('<span class="work-progress" data-testid="work-progress" data-percent="{}" '
                       'data-done-points="{}" data-total-points="{}">{}<strong>{}%</strong>{}</span>',
                       percent, work.done_points, work.total_points, bar, percent, tail)


@pytest.mark.parametrize("work", [EMPTY, Progress(0, 0, 0, 3), Progress(3, 8, 1, 4), Progress(13, 13, 5, 5),
                                  Progress(1234, 5678, 90, 120)])
@pytest.mark.parametrize("label", ["", "Progress of Tom & \"Jerry\" <b>'x'</b>", mark_safe("Progress of <i>it</i>")])
@pytest.mark.parametrize("compact", [False, True])
def test_work_progress_prints_what_format_html_printed(work, label, compact):
    assert str(work_progress(work, label, compact)) == str(_old(work, label, compact))
