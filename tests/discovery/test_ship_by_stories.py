"""Ideas ship when their linked stories are all done, without a release (issue #16 item 6):
discovery listens to backlog's story_status_changed; the worker ships and mails once."""

import pytest
from django.core import mail

from backlog import services as backlog_services
from backlog.models import Epic, Story
from discovery import services
from discovery.models import Idea, Portal, ShippedMail, Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(admin, product):
    return Portal.objects.create(product=product, slug="acme", name="Acme ideas", enabled=True)


def _done(admin, story, status="done"):
    story.refresh_from_db()
    return backlog_services.story_status_set(actor=admin, story=story, status=status, version=story.version)


def test_ideas_ship_when_all_their_stories_are_done(admin, product, portal, django_capture_on_commit_callbacks):
    s1 = Story.objects.create(product=product, title="SSO login", status="ready")
    s2 = Story.objects.create(product=product, title="SSO logout", status="ready")
    s4 = Story.objects.create(product=product, title="SAML", status="ready")
    epic = Epic.objects.create(product=product, title="Audit")
    s3 = Story.objects.create(product=product, title="Audit trail", status="in_progress", epic=epic)
    sso = services.idea_create(user=admin, product=product, data={"title": "SSO", "published": True,
                                                                  "stories": [s1, s2]})
    saml = services.idea_create(user=admin, product=product, data={"title": "SAML", "published": True,
                                                                   "stories": [s1, s4]})
    audit = services.idea_create(user=admin, product=product, data={"title": "Audit", "published": True,
                                                                    "epics": [epic]})
    ana = Visitor.objects.create(portal=portal, email="ana@globex.com")
    services.idea_vote(visitor=ana, idea=sso, importance=3)
    services.idea_vote(visitor=ana, idea=saml, importance=2)
    with django_capture_on_commit_callbacks(execute=True):
        _done(admin, s4, "wont_do")  # left out, nothing done yet: nothing ships
    assert not Idea.objects.filter(status="shipped").exists()
    with django_capture_on_commit_callbacks(execute=True):
        _done(admin, s1)
    # SAML: s1 done and s4 left out -> shipped; SSO waits for s2; Audit for its epic's story.
    assert set(Idea.objects.filter(status="shipped").values_list("title", flat=True)) == {"SAML"}
    assert [m.to for m in mail.outbox] == [["ana@globex.com"]] and "SAML" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        _done(admin, s2)
        _done(admin, s3)
    assert set(Idea.objects.filter(status="shipped").values_list("title", flat=True)) == {"SAML", "SSO", "Audit"}
    assert Idea.objects.get(pk=audit.pk).shipped_at is not None
    assert len(mail.outbox) == 2 and "SSO" in mail.outbox[1].body and "SAML" not in mail.outbox[1].body
    # Idempotent: a retry or a story moved back and forth ships and mails nothing again.
    assert services.ideas_ship_for_story(story_id=s2.id) == []
    with django_capture_on_commit_callbacks(execute=True):
        _done(admin, s2, "in_progress")
        _done(admin, s2)
    assert len(mail.outbox) == 2 and ShippedMail.objects.filter(email="ana@globex.com").count() == 2


def test_a_story_not_done_ships_nothing(admin, product):
    story = Story.objects.create(product=product, title="Lonely", status="in_progress")
    services.idea_create(user=admin, product=product, data={"title": "Lonely idea", "stories": [story]})
    assert services.ideas_ship_for_story(story_id=story.id) == []
    assert services.ideas_ship_for_story(story_id=0) == []
