"""A safe, documented setup: every environment variable pmhub/settings.py reads is in .env.example
and in README.md's table; serving processes refuse the public default SECRET_KEY with DEBUG off
(in real subprocesses: gunicorn's import of pmhub.wsgi, the Celery worker and beat, check --deploy);
`make run`, docker-compose.yml and the test suite still start."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pmhub.checks import PUBLIC_DEFAULT_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
# Read by settings.py but not a setting of PMHub: set by pytest-xdist in its test processes.
NOT_SETTINGS = {"PYTEST_XDIST_WORKER"}
# Documented but read by docker-compose.yml, not by settings.py.
COMPOSE_ONLY = {"WORKER_CONCURRENCY"}
STRONG_KEY = "0n3-Long_random+key/of%the=operator~2026-kQ7zP4wX9mB2vN6"


def settings_env_reads() -> set[str]:
    """Names of every `env(...)`, `env.<cast>(...)` call's first argument in pmhub/settings.py."""
    tree = ast.parse((ROOT / "pmhub" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env")
        if is_env and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names.add(node.args[0].value)
    return names


def gunicorn_env_reads() -> set[str]:
    """Names gunicorn.conf.py reads from the environment (`os.environ.get("X"`, `_int("X"`)."""
    text = (ROOT / "gunicorn.conf.py").read_text()
    return set(re.findall(r'(?:os\.environ\.get|_int)\("([A-Z][A-Z0-9_]+)"', text))


def env_example_names() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))


def readme_table_names() -> set[str]:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| variable | default | meaning |"):]
    table = table[:table.index("\n\n")]
    return {name for row in table.splitlines()[2:] for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_the_parser_finds_gunicorns_settings():
    assert {"WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_WORKER_CLASS", "FORWARDED_ALLOW_IPS"} <= gunicorn_env_reads()


def test_the_parser_finds_the_settings_it_must():
    reads = settings_env_reads()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_CACHE_DB", "CACHE_URL", "EMAIL_BACKEND", "EMAIL_FILE_PATH",
            "CELERY_QUEUE", "API_NUM_PROXIES", "OUTBOUND_ALLOWED_HOSTS", "EMAIL_URL"} <= reads
    assert len(reads) >= 40


@pytest.mark.parametrize("where,names", [("`.env.example`", env_example_names), ("README.md's table", readme_table_names)])
def test_every_setting_read_is_documented(where, names):
    missing = (settings_env_reads() | gunicorn_env_reads()) - NOT_SETTINGS - names()
    assert not missing, f"read by pmhub/settings.py but not in {where}: {sorted(missing)}"


@pytest.mark.parametrize("where,names", [("`.env.example`", env_example_names), ("README.md's table", readme_table_names)])
def test_nothing_documented_is_unread(where, names):
    stale = names() - settings_env_reads() - gunicorn_env_reads() - COMPOSE_ONLY
    assert not stale, f"in {where} but read by nothing: {sorted(stale)}"


# --- the app refuses to start with a public or weak key ----------------------------------------
def _env(**values):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(DJANGO_SETTINGS_MODULE="pmhub.settings", **values)
    env.pop("REDIS_URL", None)  # a worker on the in-memory broker: nothing shared is touched
    return {k: v for k, v in env.items() if v is not None}


def _run(args, **values):
    return subprocess.run(args, env=_env(**values), capture_output=True, text=True, cwd=ROOT, timeout=120)


UNSAFE_KEYS = {
    "unset": None,
    "empty": "",
    "public default": PUBLIC_DEFAULT_SECRET_KEY,
    ".env.example placeholder": "change-me-to-50-random-characters-for-example-from-python-secrets-module",
    "django-insecure": "django-insecure-" + "x8Fq2" * 10,
    "short": "s3cr3t-Key",
    "one character repeated": "a" * 60,
}
SERVING = {
    "web (gunicorn imports pmhub.wsgi)": [sys.executable, "-c", "import pmhub.wsgi"],
    "asgi": [sys.executable, "-c", "import pmhub.asgi"],
}


@pytest.mark.parametrize("process", sorted(SERVING))
@pytest.mark.parametrize("key", sorted(UNSAFE_KEYS))
def test_web_refuses_to_start_with_debug_off_and_an_unsafe_key(process, key):
    result = _run(SERVING[process], DEBUG="false", SECRET_KEY=UNSAFE_KEYS[key])
    assert result.returncode != 0
    assert "PMHub refuses to start with DEBUG off" in result.stderr


@pytest.mark.parametrize("process", sorted(SERVING))
def test_web_starts_with_a_key_of_its_own_or_in_development(process):
    assert _run(SERVING[process], DEBUG="false", SECRET_KEY=STRONG_KEY).returncode == 0
    assert _run(SERVING[process], DEBUG="true").returncode == 0  # `make run`


@pytest.mark.parametrize("command", [["worker", "--pool=solo", "-c", "1"], ["beat", "-s", "{tmp}/beat-schedule"]])
def test_worker_and_beat_refuse_to_start_with_the_public_key(command, tmp_path):
    args = [sys.executable, "-m", "celery", "-A", "pmhub", *[a.format(tmp=tmp_path) for a in command]]
    result = _run(args, DEBUG="false")
    assert result.returncode != 0
    assert "PMHub refuses to start with DEBUG off" in result.stdout + result.stderr


@pytest.mark.parametrize("key", ["public default", "short"])
def test_check_deploy_reports_an_unsafe_key_as_an_error(key, tmp_path):
    result = _run([sys.executable, "manage.py", "check", "--deploy"], DEBUG="false",
                  SECRET_KEY=UNSAFE_KEYS[key], DATABASE_URL=f"sqlite:///{tmp_path}/db")
    assert result.returncode != 0 and "pmhub.E001" in result.stdout + result.stderr


def test_management_commands_still_run_with_the_default_key(tmp_path):
    """migrate and makemigrations sign nothing: only serving processes insist on a key."""
    result = _run([sys.executable, "manage.py", "check"], DEBUG="false", DATABASE_URL=f"sqlite:///{tmp_path}/db")
    assert result.returncode == 0, result.stderr


def test_one_proxy_setting_for_the_api_throttle_and_the_sign_in_lockout():
    code = ("from django.conf import settings; import django; django.setup(); "
            "print(settings.NUM_PROXIES, settings.REST_FRAMEWORK['NUM_PROXIES'])")
    result = _run([sys.executable, "-c", code], DEBUG="true", API_NUM_PROXIES="2")
    assert result.stdout.split() == ["2", "2"], result.stderr


# --- what starts PMHub still starts it ----------------------------------------------------------
def test_make_run_sets_debug_for_every_command_it_runs():
    make = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", make, re.M).group(1)
    commands = [line.strip() for line in recipe.splitlines() if "manage.py" in line]
    assert commands and all(c.startswith("DEBUG=true ") for c in commands), commands


def test_docker_compose_runs_web_live_worker_and_beat_from_the_env_file():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    # WSGI pages and API on gunicorn (gunicorn.conf.py is read from the working directory); the
    # websocket on its own ASGI process.
    assert services["web"]["command"].startswith("gunicorn pmhub.wsgi")
    assert "uvicorn pmhub.asgi:application" in services["live"]["command"]
    # Thin events are ~250 bytes: compressing each for every socket cost half the live process's
    # CPU (decision 1971).
    assert "--ws-per-message-deflate false" in services["live"]["command"]
    assert "celery -A pmhub worker" in services["worker"]["command"]
    assert "celery -A pmhub beat" in services["beat"]["command"]
    assert all(services[s]["env_file"] == ".env" for s in ("web", "live", "worker", "beat", "migrate"))
    assert "SECRET_KEY" in (ROOT / "docker-compose.yml").read_text()  # the comment says to set it
    assert 'CMD ["gunicorn", "pmhub.wsgi"' in (ROOT / "Dockerfile").read_text()


def test_docker_compose_pools_connections_and_migrates_past_the_pooler():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    for name in ("web", "live", "worker", "beat", "inbound"):
        env = services[name]["environment"]
        assert "@pgbouncer:" in env["DATABASE_URL"], name
        assert env["DISABLE_SERVER_SIDE_CURSORS"] == "true", name  # no named cursor across transactions
        assert env["PG_OPTIONS"] == "", name  # pgbouncer refuses startup options
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "@postgres:" in services["migrate"]["environment"]["DATABASE_URL"]
    assert "manage.py migrate" in services["migrate"]["command"]
    assert "jit=off" in services["postgres"]["command"]  # what PG_OPTIONS did, now on the server
    assert services["live"]["environment"]["CONN_MAX_AGE"] == "0"


def test_the_proxy_sends_websockets_to_live_and_the_rest_to_web():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]["volumes"]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstreams = dict(re.findall(r"upstream (\w+) \{\s*server ([\w:]+);", conf))
    locations = dict(re.findall(r"location (\S+) \{\s*proxy_pass http://(\w+);", conf))
    assert upstreams[locations["/ws/"]] == "live:8001" and upstreams[locations["/"]] == "web:8000"
    assert "8001" in services["live"]["command"] and "0.0.0.0:8000" in services["web"]["command"]


def test_the_test_suite_signs_with_a_key_that_passes_the_check(settings):
    """tests/conftest.py gives the suite (and the workers it starts) a key; never the public one."""
    from pmhub.checks import secret_key_problem

    assert secret_key_problem(debug=False, key=settings.SECRET_KEY) is None
