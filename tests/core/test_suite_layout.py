"""The layout of `make test` (docs/decisions/1430): the browser tests run on two processes, except
the ones that drag with the mouse, which run alone after them (a drag is a timed sequence of
pointer events that a second busy process can break). A browser test that drags must say so with
`@pytest.mark.drag`, or it would run beside another process."""

import ast
from pathlib import Path

E2E = Path(__file__).resolve().parent.parent / "e2e"
# What a drag looks like in a test's own body: the mouse itself, or a helper that uses it.
DRAG_CALLS = ("mouse", "drag_story_above", "_drag")


def _uses(node: ast.AST, names: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in names:
            return True
        if isinstance(sub, ast.Name) and sub.id in names:
            return True
    return False


def _marked_drag(func: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Attribute) and d.attr == "drag" for d in func.decorator_list)


def _browser_tests():
    for path in sorted(E2E.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        helpers = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("test_")}
        # A module helper that drags counts as a drag call too (one level is how the tests use them).
        draggers = set(DRAG_CALLS) | {
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name in helpers and _uses(n, set(DRAG_CALLS))
        }
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield f"{path.name}::{node.name}", _uses(node, draggers), _marked_drag(node)


def test_every_browser_test_that_drags_is_marked_drag():
    unmarked = [name for name, drags, marked in _browser_tests() if drags and not marked]
    assert not unmarked, f"Mark these with @pytest.mark.drag (they run alone in `make test`): {unmarked}"


def test_a_test_marked_drag_drags():
    """The mark takes a test out of the parallel phase: only a real drag is worth that."""
    needless = [name for name, drags, marked in _browser_tests() if marked and not drags]
    assert not needless, f"Marked drag but does not drag: {needless}"
    assert any(marked for _n, _d, marked in _browser_tests())
