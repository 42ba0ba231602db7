"""Two people reorder the same backlog at the same moment (two threads, two PostgreSQL
connections): no duplicate rank, no lost story, both moves applied."""

import threading

import pytest
from django.db import connections

from backlog import services
from backlog.models import Story
from pmhub.models import Membership, Role, User, Workspace
from roadmaps.models import Product
from tests.services import on_postgres, require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _run_together(*calls):
    barrier = threading.Barrier(len(calls))
    errors = []

    def worker(call):
        try:
            barrier.wait(timeout=10)
            call()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


def _two_editors():
    """Two editors of one workspace and its product."""
    ws = Workspace.objects.create(name="Acme", slug="acme")
    ada = User.objects.create(email="ada@acme.test")
    bob = User.objects.create(email="bob@acme.test")
    for u in (ada, bob):
        Membership.objects.create(user=u, workspace=ws, role=Role.EDITOR)
    return ada, bob, Product.objects.create(workspace=ws, name="P")


def test_concurrent_moves_leave_a_consistent_order():
    require(on_postgres(), "PostgreSQL")
    ada, bob, product = _two_editors()
    stories = services.stories_bulk_create(actor=ada, product=product,
                                           stories=[{"title": f"S{i}"} for i in range(1, 11)])
    ids = [s.id for s in stories]
    for round_ in range(5):
        anchor = Story.objects.filter(product=product).order_by("rank").first()
        a, b = Story.objects.filter(product=product).order_by("-rank")[:2]
        errors = _run_together(
            lambda a=a, anchor=anchor: services.story_move(actor=User.objects.get(id=ada.id),
                                                           story=Story.objects.get(id=a.id), before=anchor.id),
            lambda b=b, anchor=anchor: services.story_move(actor=User.objects.get(id=bob.id),
                                                           story=Story.objects.get(id=b.id), before=anchor.id),
        )
        assert errors == [], f"round {round_}: {errors}"
        ranks = list(Story.objects.filter(product=product).order_by("rank").values_list("id", "rank"))
        assert len(ranks) == 10 and len({r for _, r in ranks}) == 10  # no duplicate, nothing lost
        order = [i for i, _ in ranks]
        # both moved stories now sit directly before the old first story
        assert set(order[:2]) == {a.id, b.id} and order[2] == anchor.id
    assert sorted(order) == sorted(ids)


def test_concurrent_creates_get_distinct_ranks_at_the_bottom():
    """The product lock and the last key travel in one round trip (decision 1960): the key is read
    after the lock is held, so two creates at once never compute the same key."""
    require(on_postgres(), "PostgreSQL")
    ada, bob, product = _two_editors()
    services.stories_bulk_create(actor=ada, product=product, stories=[{"title": f"S{i}"} for i in range(1, 4)])
    for round_ in range(5):
        errors = _run_together(
            lambda n=round_: services.story_create(actor=User.objects.get(id=ada.id),
                                                   product=Product.objects.get(id=product.id), title=f"Ada {n}"),
            lambda n=round_: services.story_create(actor=User.objects.get(id=bob.id),
                                                   product=Product.objects.get(id=product.id), title=f"Bob {n}"),
        )
        assert errors == [], f"round {round_}: {errors}"
    titles = list(Story.objects.filter(product=product).order_by("rank").values_list("title", flat=True))
    assert len(titles) == 13 and titles[:3] == ["S1", "S2", "S3"]
    for round_ in range(5):  # each round's two creates follow the rounds before
        assert set(titles[3 + 2 * round_: 5 + 2 * round_]) == {f"Ada {round_}", f"Bob {round_}"}
