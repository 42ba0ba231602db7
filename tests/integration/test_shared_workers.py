"""SharedWorkers (tests/integration/conftest.py, decision 2030): a real worker kept from one test
to the next is handed on only when it has nothing queued, running or held for an ETA, and the next
test sees only its own log and e-mails. Each test uses its own pool, so no order between them."""

import pytest

from pmhub.tasks import api_schema_warm

from .conftest import SharedWorkers, wait_until

pytestmark = pytest.mark.integration


def test_an_idle_worker_is_handed_on_with_its_log_and_mail_emptied(services_ready, transactional_db, tmp_path):
    pool = SharedWorkers(tmp_path)
    try:
        with pool.lend() as first:
            api_schema_warm.delay()
            wait_until(lambda: first.output().count("succeeded") >= 2, timeout=60,  # its warm-up and ours
                       message=lambda: "the task; worker log:\n" + first.output()[-3000:])
            (first.mail_dir / "left-over.log").write_text("an e-mail of the first test")
        assert list(pool.workers.values()) == [first]  # idle: kept
        with pool.lend() as second:
            assert second is first and second.proc.poll() is None  # the same process, not booted again
            assert second.output() == "" and list(second.mail_dir.iterdir()) == []
            api_schema_warm.delay()
            wait_until(lambda: "succeeded" in second.output(), timeout=30,
                       message=lambda: "the task; worker log:\n" + second.output()[-3000:])
        assert "Task pmhub.tasks.api_schema_warm" in second.output()
    finally:
        pool.close()
    assert first.proc.poll() is not None and first.broker_keys() == []


def test_a_worker_holding_a_task_for_its_eta_is_stopped_not_handed_on(services_ready, transactional_db, tmp_path):
    pool = SharedWorkers(tmp_path)
    try:
        with pool.lend() as worker:
            api_schema_warm.apply_async(countdown=600)  # received, held unacked until its ETA
            # its warm-up received and succeeded, then ours received
            wait_until(lambda: worker.output().count("api_schema_warm[") >= 3, timeout=30,
                       message=lambda: "the held task; worker log:\n" + worker.output()[-3000:])
            assert worker.pending() == 1
        assert pool.workers == {}  # not kept: the next test boots a new worker
        assert worker.proc.poll() is not None and worker.broker_keys() == []
        with pool.lend() as fresh:
            assert fresh is not worker and fresh.proc.poll() is None
    finally:
        pool.close()
