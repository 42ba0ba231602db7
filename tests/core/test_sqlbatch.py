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
