"""Dragging a backlog row by its handle as a hand does (shared by the browser tests)."""


def drag_story_above(page, source_id: int, target_id: int) -> None:
    """Drag story `source_id` by its handle above story `target_id` and wait for the move's POST.
    A little at a time, giving SortableJS's swap animation (150 ms) time to settle, so each row it
    passes moves out of the way before the next step."""
    source = page.locator(f"#story-{source_id} .drag-handle")
    target = page.locator(f"#story-{target_id}")
    with page.expect_response(lambda r: "/move/" in r.url and r.request.method == "POST") as moved:
        source.hover()
        start = source.bounding_box()
        page.mouse.down()
        x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
        page.mouse.move(x, y - 5, steps=2)
        goal = target.bounding_box()["y"] + 2
        while y > goal:
            y = max(goal, y - 10)
            page.mouse.move(x, y)
            page.wait_for_timeout(40)
        page.wait_for_timeout(250)
        page.mouse.up()
    assert moved.value.ok
