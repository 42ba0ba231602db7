"""Domain events of the backlog app. Sent by backlog services inside their transaction.
Receivers record facts (e.g. delivery's status history for burn charts) or schedule work on
commit; they never do slow work inline."""

from django.dispatch import Signal

# Sent after a story's status changed. kwargs: story, old_status (str|None), new_status (str), at (datetime).
# old_status is None for a newly created story.
story_status_changed = Signal()

# Sent once after a bulk creation (an import) instead of story_status_changed per story.
# kwargs: stories (list of Story, each with its initial status), at (datetime).
stories_created = Signal()
