"""`make run`'s embedded default works: a fresh SQLite file is migrated and the demo is loaded with
Celery in eager mode, with no database or broker server (the README's first command). The rest of
the suite runs on PostgreSQL in CI, so SQL that only PostgreSQL accepts would otherwise go unseen."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _manage(args, env):
    return subprocess.run([sys.executable, "manage.py", *args], env=env, capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


def test_a_fresh_sqlite_file_migrates_and_loads_the_demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(DEBUG="true", DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3")
    migrated = _manage(["migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    seeded = _manage(["seed_demo"], env)
    assert seeded.returncode == 0, seeded.stdout[-3000:] + seeded.stderr[-3000:]
    counted = _manage(["shell", "-c", "from backlog.models import Story; from adoption.models import UsageEvent;"
                       " print(Story.objects.count(), UsageEvent.objects.count())"], env)
    assert counted.returncode == 0, counted.stderr[-3000:]
    stories, events = (int(n) for n in counted.stdout.split()[-2:])
    assert stories > 20 and events > 100  # the demo has a backlog and usage to show
