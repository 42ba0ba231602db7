"""Demo data: companies with revenue in the product's segments, their people, and insights from
several channels in the inbox of "Acme Analytics", some highlighted against stories and epics.

Idempotent: companies by (product, external id), people by e-mail, insights by idempotency key.
"""

from decimal import Decimal

from .models import Company, Highlight, Insight, Person

COMPANIES = [
    # external id, name, domain, segment, revenue, plan, tier
    ("crm-001", "Globex", "globex.example", "Executives", Decimal("1200000"), "Enterprise", "Strategic"),
    ("crm-002", "Initech", "initech.example", "Product managers", Decimal("48000"), "Team", "Standard"),
    ("crm-003", "Umbrella", "umbrella.example", "Executives", Decimal("640000"), "Enterprise", "Key"),
    ("crm-004", "Hooli", "hooli.example", "Product managers", Decimal("150000"), "Business", "Growth"),
    ("crm-005", "Stark Industries", "stark.example", "Executives", Decimal("2100000"), "Enterprise", "Strategic"),
    ("crm-006", "Soylent", "soylent.example", None, None, "Trial", ""),
]
PEOPLE = [
    ("ana@globex.example", "Ana Ortega"), ("li@initech.example", "Li Wei"), ("sam@umbrella.example", "Sam Reyes"),
    ("priya@hooli.example", "Priya Nair"), ("tony@stark.example", "Tony Okafor"),
]
INSIGHTS = [
    # key, channel, author e-mail, title, text, state, highlight (passage, importance, story index or None)
    ("demo-i1", "api", "ana@globex.example", "SSO before renewal",
     "Our security team will not renew without SSO and an audit log of who exported what.", "reviewed",
     ("will not renew without SSO", 5)),
    ("demo-i2", "email", "li@initech.example", "Charts into slides",
     "Exporting charts to slides takes forever; we copy screenshots every Monday.", "new", None),
    ("demo-i3", "form", "sam@umbrella.example", "Scheduled reports",
     "Scheduled reports by e-mail would replace two tools for us.", "reviewed",
     ("would replace two tools", 4)),
    ("demo-i4", "manual", "priya@hooli.example", "Filter by segment",
     "Filtering dashboards by customer segment is the feature I miss most.", "new", None),
    ("demo-i5", "csv", "tony@stark.example", "Alerts on drops",
     "Alerts when a metric drops are a must for our operations team.", "reviewed",
     ("a must for our operations team", 5)),
    ("demo-i6", "api", "", "Dark mode", "Please add a dark mode for the wall display.", "archived", None),
]


def seed(*, workspace, users):
    from backlog.models import Story
    from roadmaps.models import Product

    product, _ = Product.objects.get_or_create(workspace=workspace, name="Acme Analytics")
    segments = {s.name: s for s in product.segments.all()}
    companies = {}
    for ext, name, domain, segment, revenue, plan, tier in COMPANIES:
        companies[domain], _ = Company.objects.get_or_create(product=product, external_id=ext, defaults={
            "name": name, "domain": domain, "segment": segments.get(segment), "revenue": revenue, "currency": "EUR",
            "plan": plan, "tier": tier})
    people = {}
    for email, name in PEOPLE:
        people[email], _ = Person.objects.get_or_create(product=product, email=email, defaults={
            "name": name, "company": companies.get(email.rpartition("@")[2])})
    stories = list(Story.objects.filter(product=product).order_by("rank")[:6])
    owner = users.get("demo")
    for n, (key, channel, email, title, text, state, highlight) in enumerate(INSIGHTS):
        person = people.get(email)
        insight, created = Insight.objects.get_or_create(product=product, key=key, defaults={
            "channel": channel, "title": title, "text": text, "state": state, "author_email": email,
            "author_name": person.name if person else "", "person": person,
            "company": person.company if person else None, "owner": owner if state != "new" else None})
        if created and highlight and stories:
            story = stories[n % len(stories)]
            Highlight.objects.create(insight=insight, passage=highlight[0], importance=highlight[1], story=story,
                                     epic=story.epic, created_by=owner)
    _seed_feedback(product=product, stories=stories, owner=owner)
    from backlog.services import demand_recompute

    demand_recompute(product=product)
    _seed_portal(product=product, companies=companies, owner=owner)
    return product


FEEDBACK = [
    # customer, source, quote, importance, story indexes: typed in on Backlog › Feedback (feedback_file)
    ("Globex", "Sales call", "We cannot buy more seats without audit logs.", 5, [0, 3]),
    ("Initech", "Support ticket", "Exporting charts to slides takes forever.", 3, [2]),
]


def _seed_feedback(*, product, stories, owner):
    from .services import feedback_file

    for customer, source, quote, importance, idx in FEEDBACK:
        if not stories or owner is None or Insight.objects.filter(product=product, channel="feedback",
                                                                  text=quote).exists():
            continue
        feedback_file(user=owner, product=product, customer=customer, quote=quote, source=source,
                      importance=importance, story_ids=[stories[i].id for i in idx if i < len(stories)])


IDEAS = [
    # title, description, status, voters (e-mail, importance), shipped with release notes
    ("Single sign-on", "Sign in with our company's identity provider.", "shipped",
     [("ana@globex.example", 3), ("tony@stark.example", 3), ("sam@umbrella.example", 2)], True),
    ("Scheduled reports by e-mail", "A weekly PDF of the dashboard to the leadership team.", "planned",
     [("sam@umbrella.example", 3), ("ana@globex.example", 2), ("li@initech.example", 1)], False),
    ("Dark mode", "For the wall display in the office.", "under_consideration",
     [("priya@hooli.example", 2), ("li@initech.example", 1), ("visitor@gmail.example", 1)], False),
    ("Slack alerts", "Tell our channel when a KPI turns red.", "in_progress",
     [("tony@stark.example", 3), ("priya@hooli.example", 2)], False),
]


def _seed_portal(*, product, companies, owner):
    from datetime import timedelta

    from django.utils import timezone

    from .models import Follow, Idea, Portal, ReleaseNote, Visitor, Vote
    from .services import idea_recount

    portal, _ = Portal.objects.get_or_create(product=product, defaults={
        "slug": "acme-analytics", "name": "Acme Analytics ideas", "enabled": True, "colour": "#0b6bcb",
        "intro": "Tell us what would make Acme Analytics better, and vote for what matters to you."})
    for title, description, status, voters, shipped in IDEAS:
        idea, created = Idea.objects.get_or_create(product=product, title=title, defaults={
            "description": description, "status": status, "published": True, "created_by": owner,
            "shipped_at": timezone.now() - timedelta(days=4) if shipped else None})
        if not created:
            continue
        for email, importance in voters:
            visitor, _ = Visitor.objects.get_or_create(portal=portal, email=email,
                                                       defaults={"name": email.split("@")[0].title()})
            Vote.objects.get_or_create(idea=idea, visitor=visitor, defaults={"importance": importance})
            Follow.objects.get_or_create(idea=idea, visitor=visitor)
        idea_recount(idea_ids=[idea.id])
        if shipped:
            _seed_askers_adoption(product=product, idea=idea)
            ReleaseNote.objects.get_or_create(portal=portal, title="Single sign-on is here", defaults={
                "body": "Sign in with your identity provider (SAML or OIDC). Thank you to everyone who voted!",
                "published_at": timezone.now(), "created_by": owner})


def _seed_askers_adoption(*, product, idea):
    """The shipped idea's epic names a success KPI whose adoption feature has usage since shipping,
    each event carrying the company's external id: two of the three asking companies use it,
    against about a third of everyone (the idea page's "Did the askers adopt it?")."""
    from datetime import timedelta

    from adoption.models import Feature, UsageEvent
    from backlog.models import Epic
    from metrics.models import Kpi

    epic = Epic.objects.filter(product=product, title="Enterprise readiness").first()
    if epic is None:
        return
    idea.epics.add(epic)
    kpi, _ = Kpi.objects.get_or_create(product=product, name="SSO adoption", defaults={"unit": "percent"})
    kpi.epics.add(epic)
    Feature.objects.get_or_create(product=product, key="sso.login", defaults={"name": "SSO sign-in", "kpi": kpi})
    users = [("crm-001", True), ("crm-005", True), ("crm-003", False)]
    users += [(f"acct-{n}", n % 3 == 0) for n in range(12)]
    events = []
    for n, (company, uses) in enumerate(users):
        at = idea.shipped_at + timedelta(hours=2 + n)
        events.append(UsageEvent(product=product, event_id=f"demo-askers-{n}-dash", feature_key="dashboards",
                                 actor=f"{company}-user", occurred_at=at, properties={"company": company}))
        if uses:
            events.append(UsageEvent(product=product, event_id=f"demo-askers-{n}-sso", feature_key="sso.login",
                                     actor=f"{company}-user", occurred_at=at, properties={"company": company}))
    UsageEvent.objects.bulk_create(events, ignore_conflicts=True)
    # Roll the touched days up, as the worker would, so the adoption pages and the KPI agree.
    from adoption.rollups import rollup_day
    from adoption.services import feature_kpis_sync
    from pmhub.clock import today_in

    tz_name = product.workspace.time_zone
    today = today_in(tz_name)
    for back in range(6, -1, -1):
        rollup_day(product_id=product.id, day=today - timedelta(days=back), tz_name=tz_name)
    feature_kpis_sync(product_id=product.id, tz_name=tz_name)
