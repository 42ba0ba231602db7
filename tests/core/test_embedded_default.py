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
    opened = _manage(["shell", "-c", PAGES], env)
    assert opened.returncode == 0, opened.stdout[-3000:] + opened.stderr[-3000:]
    answers = [line.split(" ", 1) for line in opened.stdout.splitlines() if line[3:5] == " /"]
    assert len(answers) >= 9 and all(code == "200" for code, _ in answers), opened.stdout[-3000:]


# The demo's main pages, opened by its signed-in user on the SQLite file: a read that only
# PostgreSQL accepts (a compiled query's date parameter, say) would fail here and nowhere else.
PAGES = """
from django.test import Client
from backlog.models import Story
from delivery.models import Iteration
from metrics.models import Kpi
from pmhub.models import User, Workspace
ws = Workspace.objects.order_by("id").first()
story = Story.objects.filter(product__workspace=ws).order_by("id").first()
p = story.product_id
kpi = Kpi.objects.filter(product_id=p).order_by("id").first()
iteration = Iteration.objects.filter(product_id=p).order_by("id").first()
client = Client()
client.force_login(User.objects.get(email="demo@pmhub.local"))
base = f"/w/{ws.slug}"
paths = [f"{base}/", f"{base}/dashboard/", f"{base}/products/{p}/dashboard/", f"{base}/products/{p}/backlog/",
         f"{base}/products/{p}/backlog/board/", f"{base}/products/{p}/backlog/stories/{story.id}/",
         f"{base}/products/{p}/roadmap/timeline/", f"{base}/products/{p}/roadmap/board/",
         f"{base}/products/{p}/adoption/"]
paths += [f"{base}/products/{p}/kpis/{kpi.id}/"] if kpi else []
paths += [f"{base}/products/{p}/iterations/{iteration.id}/"] if iteration else []
for path in paths:
    print(client.get(path).status_code, path)
"""
