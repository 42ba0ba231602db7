#!/usr/bin/env bash
# `make test`'s pytest phases (docs/decisions/1430, 1431, 2100). Arguments go to every pytest call.
#
# 1. everything but the browser tests on TEST_WORKERS processes, work stealing, longest first;
# 2. at the same time, the browser tests except the mouse drags on TEST_WORKERS processes of their
#    own, with their own test databases (suffix `browser`) and Redis cache databases (odd offsets
#    from REDIS_CACHE_DB where phase 1 has the even ones; BROWSER_CACHE_DB sets another base). A
#    browser test waits on its live server and Chromium more than it computes: alone, this phase
#    kept about a third of the two cores busy. Its output is printed when phase 1 ends. Measured
#    both ways on the same code (decision 2100, amended): phase 1 takes 840 s alone and 847-918 s
#    with this phase beside it, so most of the browser phase's own 5 minutes are free;
# 3. the drags (`@pytest.mark.drag`) alone, on one process, when both have finished: a drag is a timed
#    sequence of pointer events that a busy machine can break.
#
# Every test database of the run is a copy of one migrated template (tests/templatedb.py).
set -u
cd "$(dirname "$0")/.."
PYTEST=${PYTEST:-.venv/bin/pytest}
WORKERS=${TEST_WORKERS:-2}
export PMHUB_TEST_RUN="${PMHUB_TEST_RUN:-$(date +%s%N)-$$}"
BROWSER_ENV=(env PMHUB_TEST_DB_SUFFIX=browser REDIS_CACHE_DB="${BROWSER_CACHE_DB:-$(( ${REDIS_CACHE_DB:-1} + 1 ))}")

# Bytecode (decision 2231): with PYTHONDONTWRITEBYTECODE set (the Dockerfile sets it, and so does the
# environment the suite has been timed in) every process of the run compiled the app from source and
# pytest rewrote every test module again: 17-21 s of CPU per pytest process that collects the suite
# instead of 9-10 s, and 0.4 s more per process start (Celery workers, subprocess tests). The run
# writes bytecode (Python checks each file's mtime and size, so a changed source is compiled again)
# and compiles the app once first, so the parallel processes of phase 1 do not each compile it.
unset PYTHONDONTWRITEBYTECODE
"${PYTHON:-$(dirname "$PYTEST")/python}" -m compileall -q -j "$WORKERS" -x '/(\.venv|node_modules|\.git)/' . >/dev/null \
  || echo "compileall failed; the tests compile what they import"

browser_log=$(mktemp)
started=$SECONDS
"${BROWSER_ENV[@]}" "$PYTEST" -n "$WORKERS" --dist worksteal -m "e2e and not drag" --create-db --reuse-db \
  tests/e2e "$@" >"$browser_log" 2>&1 &
browser=$!
trap 'kill "$browser" 2>/dev/null; rm -f "$browser_log"' EXIT

"$PYTEST" -n "$WORKERS" --dist worksteal -m "not e2e" --create-db --reuse-db "$@"
phase1=$?
echo "phase 1 (not e2e): exit $phase1, $(( SECONDS - started )) s"
wait "$browser"
phase2=$?
trap 'rm -f "$browser_log"' EXIT  # the browser phase has ended: nothing left to stop
echo "---------- browser tests, run beside phase 1 ----------"
cat "$browser_log"
echo "phase 2 (e2e and not drag): exit $phase2 (its own time is in its summary line above)"

dragging=$SECONDS
"${BROWSER_ENV[@]}" "$PYTEST" -n 1 -m "e2e and drag" --reuse-db tests/e2e "$@"
phase3=$?
echo "phase 3 (e2e and drag): exit $phase3, $(( SECONDS - dragging )) s; all phases $(( SECONDS - started )) s"

[ "$phase1" = 0 ] && [ "$phase2" = 0 ] && [ "$phase3" = 0 ]
