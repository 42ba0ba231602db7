"""GIN indexes for the header search (PostgreSQL only), and the backlog's typed-in feedback copied
into the insights inbox once (docs/decisions/1600-insights-and-feedback.md): each feedback row
becomes an insight of channel "feedback" with the key `feedback-<id>`, so running it again (or
after new feedback) copies nothing twice. The backlog's feedback rows stay as they are and keep
feeding story demand; the copies carry no highlights, so nothing is counted twice."""

from django.db import migrations

from pmhub.search import search_index_operation


def copy_feedback(apps, schema_editor):
    Feedback = apps.get_model("backlog", "Feedback")
    Insight = apps.get_model("discovery", "Insight")
    Company = apps.get_model("discovery", "Company")
    batch = []
    for fb in Feedback.objects.order_by("id").iterator(chunk_size=1000):
        company = Company.objects.filter(product_id=fb.product_id, name__iexact=fb.customer).first()
        source = f" ({fb.source})" if fb.source else ""
        batch.append(Insight(product_id=fb.product_id, title=f"{fb.customer}{source}"[:200], text=fb.quote,
                             channel="feedback", key=f"feedback-{fb.id}", state="reviewed",
                             author_name=fb.customer[:160], company=company, created_by_id=fb.created_by_id))
        if len(batch) >= 1000:
            Insight.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Insight.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("discovery", "0001_initial"), ("backlog", "0007_search_gin_indexes")]

    operations = [
        search_index_operation(app_label="discovery", model_name="company", fields=("name", "domain", "plan"),
                               name="discovery_company_search_gin"),
        search_index_operation(app_label="discovery", model_name="insight", fields=("title", "text"),
                               name="discovery_insight_search_gin"),
        migrations.RunPython(copy_feedback, migrations.RunPython.noop, elidable=False),
    ]
