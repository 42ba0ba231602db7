"""pmhub.sqlbatch: several statements in one round trip, with the answer of the last, and a read
that follows a row lock in the same round trip sees what the lock's holder committed meanwhile
(decision 1960)."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pmhub import sqlbatch
from pmhub.models import Activity
from pmhub.services import activity_build
from roadmaps.models import Product
from tests.services import on_postgres, require

pytestmark = pytest.mark.django_db


def test_statements_in_one_round_trip_answer_the_last(workspace, admin):
    product = Product.objects.create(workspace=workspace, name="Before")
    activity = activity_build(workspace_id=workspace.id, actor=admin, verb="renamed product", target=product,
                              data={"to": "After"})
    with CaptureQueriesContext(connection) as captured:
        rows = sqlbatch.run([
            sqlbatch.update_of(Product.objects.filter(id=product.id), name="After"),
            sqlbatch.insert_of(activity),
            sqlbatch.select_of(Product.objects.filter(id=product.id).values_list("name", "version")),
        ])
    assert rows == [("After", product.version)]
    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 3)
    written = Activity.objects.get(verb="renamed product")
    assert (written.actor_id, written.target_id, written.target_repr, written.data) == (
        admin.id, product.id, str(product), {"to": "After"})


def test_from_db_converts_as_the_orm_does(workspace):
    from backlog.models import Story

    product = Product.objects.create(workspace=workspace, name="P")
    story = Story.objects.create(product=product, title="S", rank="i", labels=["b", "a"],
                                 score_inputs={"reach": 10, "impact": 2}, custom_values={"team": "x"})
    fields = ["labels", "score_inputs", "custom_values", "score", "demand"]
    rows = sqlbatch.run([sqlbatch.select_of(Story.objects.filter(id=story.id).values_list(*fields))])
    assert sqlbatch.from_db(Story, fields, rows[0]) == Story.objects.filter(id=story.id).values(*fields).get()


@pytest.mark.django_db(transaction=True)
def test_a_read_after_a_lock_in_one_round_trip_sees_the_holders_commit(workspace):
    require(on_postgres(), "PostgreSQL")
    product = Product.objects.create(workspace=workspace, name="P")
    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        cursor = holder.cursor()
        cursor.execute("SELECT id FROM roadmaps_product WHERE id = %s FOR UPDATE", [product.id])

        def rename_and_commit():
            time.sleep(0.5)  # while the batch below waits for the lock
            cursor.execute("UPDATE roadmaps_product SET name = 'Renamed' WHERE id = %s", [product.id])
            holder.commit()

        thread = threading.Thread(target=rename_and_commit)
        thread.start()
        with transaction.atomic():
            rows = sqlbatch.run([
                sqlbatch.select_of(Product.objects.select_for_update().filter(id=product.id).values_list("id")),
                sqlbatch.select_of(Product.objects.filter(workspace=workspace).values_list("name")),
            ])
        thread.join(10)
        assert rows == [("Renamed",)]
    finally:
        holder.close()


# atomic_begun_with_first (decision 2355): BEGIN travels with the block's first statement; the
# server holds one transaction from it to the COMMIT (or ROLLBACK) sent on the block's exit.
def _other_connection_sees(product_name: str) -> bool:
    import psycopg2
    from django.db import connections

    settings = connections["default"].get_connection_params()
    with psycopg2.connect(**settings) as other, other.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM roadmaps_product WHERE name = %s", [product_name])
        return cursor.fetchone()[0] == 1


def _idle_and_as_before():
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    assert not connection.in_atomic_block and connection.get_autocommit()
    assert connection.connection.info.transaction_status == TRANSACTION_STATUS_IDLE
    assert connection.connection.autocommit  # Django's autocommit restored on the driver


@pytest.mark.django_db(transaction=True)
def test_begun_with_first_is_one_transaction_committed_on_exit(workspace):
    require(on_postgres(), "BEGIN with the first statement is PostgreSQL's")
    def begun_in_the_same_message():  # now() is the transaction's start, statement_timestamp() the message's
        with connection.cursor() as cursor:
            cursor.execute("SELECT now() = statement_timestamp()")
            return cursor.fetchone()[0]

    with transaction.atomic():  # psycopg2's own BEGIN: a round trip before the first statement
        assert not begun_in_the_same_message()
    committed = []
    with sqlbatch.atomic_begun_with_first():
        assert begun_in_the_same_message()
        Product.objects.create(workspace=workspace, name="Inside")
        assert not _other_connection_sees("Inside")  # not committed yet: one transaction
        with transaction.atomic():  # a savepoint inside works as in atomic
            Product.objects.create(workspace=workspace, name="Nested")
        transaction.on_commit(lambda: committed.append(_other_connection_sees("Inside")))
        names = Product.objects.filter(workspace=workspace, name__in=["Inside", "Nested"]).order_by("id")
        assert [p.name for p in names.iterator(chunk_size=1)] == ["Inside", "Nested"]  # a named cursor
    assert committed == [True]
    assert _other_connection_sees("Inside") and _other_connection_sees("Nested")
    _idle_and_as_before()


@pytest.mark.django_db(transaction=True)
def test_begun_with_first_rolls_back_on_an_error_and_leaves_the_connection_usable(workspace):
    require(on_postgres(), "BEGIN with the first statement is PostgreSQL's")
    from django.db import IntegrityError

    with pytest.raises(ValueError), sqlbatch.atomic_begun_with_first():
        Product.objects.create(workspace=workspace, name="Refused")
        raise ValueError("a 400 after the first statement")
    _idle_and_as_before()
    with pytest.raises(IntegrityError), sqlbatch.atomic_begun_with_first():
        Product.objects.create(workspace=workspace, name="Half")
        sqlbatch.run([sqlbatch.insert_of(Product(workspace_id=workspace.id, name="Also")),
                      ("INSERT INTO roadmaps_product (id) VALUES (NULL)", ())])  # fails in the batch
    _idle_and_as_before()
    assert not Product.objects.filter(name__in=["Refused", "Half", "Also"]).exists()
    with sqlbatch.atomic_begun_with_first():  # nothing sent: nothing to commit
        pass
    _idle_and_as_before()
    with sqlbatch.atomic_begun_with_first():
        Product.objects.create(workspace=workspace, name="After")
    assert _other_connection_sees("After")
