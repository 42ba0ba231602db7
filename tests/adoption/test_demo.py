import pytest

from adoption import demo
from adoption.models import Feature, FeatureDaily, OutcomeCheckpoint, OutcomeReview, UsageEvent

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent(workspace, admin):
    product = demo.seed(workspace=workspace, users={"demo": admin})
    counts = (UsageEvent.objects.count(), FeatureDaily.objects.count(), Feature.objects.count(),
              OutcomeReview.objects.count(), OutcomeCheckpoint.objects.count())
    assert counts[0] > 1000 and counts[2] == 4 and counts[3] == 5
    ids = list(FeatureDaily.objects.order_by("id").values_list("id", "users"))
    assert demo.seed(workspace=workspace, users={"demo": admin}) == product
    assert (UsageEvent.objects.count(), FeatureDaily.objects.count(), Feature.objects.count(),
            OutcomeReview.objects.count(), OutcomeCheckpoint.objects.count()) == counts
    assert list(FeatureDaily.objects.order_by("id").values_list("id", "users")) == ids
    assert Feature.objects.get(key="alerts").kpi.current_value is not None
