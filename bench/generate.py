"""The seeded generator: its own database, bulk inserts (COPY on PostgreSQL), the core rows.

The bench never touches the user's data: on PostgreSQL it drops and recreates
`<name>_bench` (derived from DATABASE_URL) and migrates it; on SQLite it uses a separate file
(bench/bench.sqlite3). Case modules add their rows with `insert_rows`/`copy_rows`.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import time
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
SQLITE_PATH = BENCH_DIR / "bench.sqlite3"
BENCH_PASSWORD = "bench-password-2026"
BENCH_EMAIL = "bench@pmhub.test"

# --- The dedicated database -----------------------------------------------------------------


def bench_database_url(database_url: str | None) -> str:
    """The URL of the bench's own database.

    postgres://u@h:5432/pmhub -> postgres://u@h:5432/pmhub_bench (query string kept);
    unset or SQLite -> sqlite:///<repo>/bench/bench.sqlite3, never the user's db.sqlite3.
    """
    if not database_url or database_url.startswith("sqlite"):
        return f"sqlite:///{SQLITE_PATH}"
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "pmhub"
    return urlunsplit(parts._replace(path=f"/{name}_bench"))


def is_postgres_url(url: str) -> bool:
    return url.split(":", 1)[0] in ("postgres", "postgresql", "pgsql", "postgis")


def recreate_database(url: str) -> None:
    """Drop and create the bench database (before Django is set up)."""
    if not is_postgres_url(url):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.endswith("_bench"):
        raise SystemExit(f"refusing to recreate {name!r}: the bench only recreates databases named *_bench")
    admin = psycopg2.connect(
        dbname="postgres", user=parts.username or "postgres", password=parts.password or None,
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def setup_django(url: str) -> None:
    """Point Django at the bench database, with throttles out of the way and Celery eager."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")
    # The bench sends thousands of requests as one token from one address within minutes.
    os.environ.setdefault("API_THROTTLE_TOKEN", "100000000/min")
    os.environ.setdefault("API_THROTTLE_ADDRESS", "100000000/min")
    os.environ.setdefault("DEBUG", "false")
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic needed here

    django.setup()
    configure_eager()


def configure_eager() -> None:
    """Tasks run in-process (the bench times the work, not the broker)."""
    from django.conf import settings

    from pmhub.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def migrate(timer) -> None:
    from django.core.management import call_command

    with timer("migrate", method="manage.py migrate"):
        call_command("migrate", interactive=False, verbosity=0)


# --- Bulk inserts ---------------------------------------------------------------------------


def vendor() -> str:
    from django.db import connection

    return connection.vendor


def _insert_columns(model):
    """Concrete fields except an auto primary key, and the value each gets when a row omits it."""
    from django.utils import timezone

    now = timezone.now()
    fields, defaults = [], {}
    for f in model._meta.concrete_fields:
        if f.primary_key and f.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField"):
            continue
        fields.append(f)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now if f.get_internal_type() == "DateTimeField" else now.date()
        else:  # the default, or "" for a NOT NULL text field without one (as Model() would)
            defaults[f.attname] = f.get_default()
    return fields, defaults


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in COPY's text format (\\N is NULL; backslash, tab and newlines escaped)."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is int or kind is float or kind is Decimal:
        return str(value)
    if kind is str:
        return value.translate(_ESCAPES)
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value).translate(_ESCAPES)
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value).translate(_ESCAPES)


def _row_value(row: dict, f, defaults: dict):
    if f.attname in row:
        return row[f.attname]
    if f.name in row:
        value = row[f.name]
        return value.pk if f.is_relation and value is not None and hasattr(value, "pk") else value
    return defaults[f.attname]


def copy_rows(model, rows: Iterable[dict], *, chunk: int = 100_000) -> int:
    """COPY rows into the model's table; PostgreSQL only.

    Rows are dicts keyed by attname (`product_id`) or field name, all with the same keys (those of
    the first row). Omitted fields get their Django default (auto_now fields: now), encoded once.
    """
    from django.db import connection

    fields, defaults = _insert_columns(model)
    by_key = {f.attname: f for f in fields} | {f.name: f for f in fields}
    qn = connection.ops.quote_name
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    keys = list(first)
    given = [by_key[k] for k in keys]
    rest = [f for f in fields if f not in given]
    suffix = "".join("\t" + _copy_text(defaults[f.attname]) for f in rest) + "\n"
    columns = ", ".join(qn(f.column) for f in given + rest)
    statement = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT text)"
    total = 0
    lines: list[str] = []

    def flush():
        if lines:
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(statement, io.StringIO("".join(lines)))
            lines.clear()

    for row in _chain(first, iterator):
        lines.append("\t".join([_copy_text(row[k]) for k in keys]) + suffix)
        total += 1
        if len(lines) >= chunk:
            flush()
    flush()
    return total


def _chain(first, rest):
    yield first
    yield from rest


def insert_rows(ctx, model, rows: Iterable[dict], *, copy: bool | None = None, batch_size: int = 2_000,
                label: str | None = None) -> list:
    """Insert rows and record the time under the table's name (making the rows included, so a
    generator passed in is timed too; it is streamed into COPY, never held in memory whole).

    copy=None: COPY on PostgreSQL for more than 5,000 rows (no objects returned), else
    bulk_create(batch_size) which returns the objects with their ids.
    """
    if copy is None:
        rows = list(rows)
        copy = len(rows) > 5_000
    use_copy = copy and ctx.vendor == "postgresql"
    name = label or model._meta.db_table
    with ctx.timer(name, method="COPY" if use_copy else f"bulk_create({batch_size})") as section:
        if use_copy:
            section.rows = copy_rows(model, rows)
            return []
        fields, defaults = _insert_columns(model)
        made: list = []
        iterator = iter(rows)
        # In slices, so a big table on SQLite (copy asked, no COPY there) is never held in memory whole.
        while chunk := list(itertools.islice(iterator, 50_000)):
            objs = model.objects.bulk_create(
                [model(**{f.attname: _row_value(row, f, defaults) for f in fields}) for row in chunk],
                batch_size=batch_size)
            section.rows += len(objs)
            if not copy:
                made.extend(objs)
        return made


def analyze(ctx) -> None:
    """Fresh planner statistics after bulk loads (autovacuum would get there later)."""
    from django.db import connection

    if ctx.vendor != "postgresql":
        with ctx.timer("ANALYZE", method="sqlite ANALYZE"), connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return
    with ctx.timer("ANALYZE", method="VACUUM ANALYZE"), connection.cursor() as cursor:
        if connection.in_atomic_block:  # inside a test transaction VACUUM is not allowed
            cursor.execute("ANALYZE")
        else:
            cursor.execute("VACUUM ANALYZE")


# --- The core rows --------------------------------------------------------------------------

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jon", "Kemal", "Lena", "Mo",
         "Nia", "Omar", "Pia", "Quinn", "Ravi", "Sofia", "Tom", "Uma", "Vik", "Wen", "Xavi", "Yara", "Zoe"]
LAST = ["Adams", "Berg", "Costa", "Dubois", "Eze", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kim",
        "Lopez", "Meyer", "Novak", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber"]
PRODUCT_NAMES = ["Atlas", "Beacon", "Comet", "Delta", "Ember", "Fjord", "Glacier", "Harbor", "Iris", "Juniper",
                 "Kestrel", "Lumen", "Meridian", "Nimbus", "Orbit", "Prism", "Quartz", "Ridge", "Summit", "Tide",
                 "Umbra", "Vertex", "Willow", "Zenith"]


def generate_core(ctx, *, workspace_slug: str = "bench") -> None:
    """1 workspace, the members (the bench user is admin), memberships, an API token, the products."""
    from django.contrib.auth.hashers import make_password

    from pmhub.models import ApiToken, Membership, Role, User, Workspace, hash_secret
    from roadmaps.models import Product

    rng, scale = ctx.rng, ctx.scale
    with ctx.timer("pmhub_workspace", rows=1, method="create"):
        ctx.workspace = Workspace.objects.create(name="Bench Corp", slug=workspace_slug, time_zone="UTC")

    # One real password hash for the bench user; the others share an unusable one (hashing 200
    # passwords would dominate the generation for nothing).
    bench_hash = make_password(BENCH_PASSWORD)
    unusable = make_password(None)
    rows = [{"email": BENCH_EMAIL, "name": "Bench Admin", "password": bench_hash}]
    for i in range(1, scale.members):
        rows.append({"email": f"member{i:04d}@{workspace_slug}.pmhub.test",
                     "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "password": unusable})
    ctx.users = insert_rows(ctx, User, rows, copy=False)
    if ctx.users and ctx.users[0].pk is None:  # a backend without RETURNING: read them back
        ctx.users = list(User.objects.filter(email__in=[r["email"] for r in rows]).order_by("id"))

    roles = [Role.ADMIN] + [Role.EDITOR if rng.random() < 0.3 else Role.VIEWER for _ in ctx.users[1:]]
    insert_rows(ctx, Membership, [{"user_id": u.pk, "workspace_id": ctx.workspace.pk, "role": int(r)}
                                  for u, r in zip(ctx.users, roles, strict=True)], copy=False)

    raw = ApiToken.generate_key()
    with ctx.timer("pmhub_apitoken", rows=1, method="create"):
        ApiToken.objects.create(user=ctx.user, workspace=ctx.workspace, name="bench", prefix=raw[:12],
                                key_hash=hash_secret(raw), scope=ApiToken.Scope.WRITE)
    ctx.token = raw

    names = [PRODUCT_NAMES[i % len(PRODUCT_NAMES)] + ("" if i < len(PRODUCT_NAMES) else f" {i}")
             for i in range(scale.products)]
    ctx.products = insert_rows(ctx, Product, [
        {"workspace_id": ctx.workspace.pk, "name": name,
         "vision": f"Make {name} the obvious choice for teams of every size."} for name in names
    ], copy=False)


def elapsed_since(start: float) -> float:
    return time.perf_counter() - start
