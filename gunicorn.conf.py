"""gunicorn's configuration for PMHub's web process: pages and API over WSGI (pmhub.wsgi).

gunicorn reads this file from its working directory by itself, so `gunicorn pmhub.wsgi` (the
Dockerfile, docker-compose.yml's `web`, README "Without Docker", bench/load.py) all run with it;
a flag on the command line (`--bind`, `--workers`) overrides a value here. The live-updates
websocket is NOT served here: it is a separate ASGI process (`live` in docker-compose.yml,
`uvicorn pmhub.asgi:application`), so a thousand open sockets never hold a WSGI worker
(docs/decisions/1940-gunicorn-gthread-and-a-separate-live-process.md).

Environment (README "Running against PostgreSQL and Redis"):
    WEB_CONCURRENCY          worker processes (default: the CPUs this process may run on + 1)
    GUNICORN_THREADS         threads per worker (default 4)
    GUNICORN_WORKER_CLASS    gthread (default), sync, or uvicorn (ASGI) - for measuring only
    GUNICORN_TIMEOUT         seconds a request may take before its worker is restarted (default 30)
    FORWARDED_ALLOW_IPS      proxies whose X-Forwarded-* headers gunicorn trusts (default 127.0.0.1)
"""

import gc
import os


def _cpus() -> int:
    """CPUs this process may use: a `taskset` or a container's cpuset counts, the host's total does not."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


CPUS = _cpus()
WORKER_CLASS = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or "gthread"

# Measured on 2 CPUs shared with PostgreSQL and Redis (bench/load.py, decision 1940): threads keep
# a worker busy while another request of it waits on PostgreSQL or Redis, with fewer processes
# (memory, database connections) than sync workers need for the same throughput.
if WORKER_CLASS == "uvicorn":
    wsgi_app = "pmhub.asgi:application"
    worker_class = "uvicorn.workers.UvicornWorker"
else:
    wsgi_app = "pmhub.wsgi:application"
    worker_class = WORKER_CLASS
threads = _int("GUNICORN_THREADS", 4) if WORKER_CLASS == "gthread" else 1
workers = _int("WEB_CONCURRENCY", (2 * CPUS + 1) if WORKER_CLASS == "sync" else CPUS + 1)

# A request that takes longer than this is a bug (slow work goes to Celery): the worker is killed
# and restarted rather than held. On a restart or deploy (SIGTERM/SIGHUP) requests in flight get
# graceful_timeout seconds to finish.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
# Recycle each worker after about 20,000 requests (a slow leak in any library stays bounded); the
# jitter keeps the workers from restarting at the same moment. Not fewer: a new worker costs about
# 2 s of CPU (imports, URL and template compilation) before it serves at full speed, and at 2,000
# the three workers of a 2-CPU server under the load test restarted every 20 s or so (decision 1972).
max_requests = 20000
max_requests_jitter = 2000

# Behind a proxy that keeps upstream connections open (nginx `keepalive` in the upstream block):
# hold an idle connection longer than the proxy does (nginx's default keepalive_timeout is 60 s),
# so it is the proxy that closes it and never races a request against our close.
keepalive = 75
# X-Forwarded-Proto/For from these addresses only (the proxy); Django reads X-Forwarded-Proto with
# PMHUB_HTTPS and X-Forwarded-For with API_NUM_PROXIES.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The listen queue of connections waiting for a worker: absorbs a burst instead of refusing it.
backlog = 2048

# The garbage collector (decision 1973): the objects a worker holds once Django and the project are
# loaded (modules, URL patterns, settings: hundreds of thousands) are frozen out of every later
# collection, and the youngest generation is collected after 10,000 allocations instead of 700:
# a request allocates tens of thousands of short-lived objects, and each collection walked them.
# Measured: 7-10 % less CPU per request of the load mix.
GC_THRESHOLD = (10_000, 10, 10)


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# Preload off: each worker imports Django itself, so `kill -HUP` reloads code without a restart.
preload_app = False
