"""The operator's queue figures count the training queue beside the provider queues (status,
/metrics, the dashboard's charts), and the dashboard's bar charts leave room for their labels."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from ops.dashboard.charts import CHAR_WIDTH, Point, bar_list
from tests.helpers import signed_in
from training.models import TrainingDataset, TrainingJob

pytestmark = pytest.mark.django_db


def _training(user, status: str) -> TrainingJob:
    dataset = TrainingDataset.objects.create(user=user, archive="training/datasets/x.zip", image_count=6, total_size=1)
    return TrainingJob.objects.create(
        user=user,
        dataset=dataset,
        provider="local",
        status=status,
        trigger_word="tok",
        steps=10,
        learning_rate=1e-4,
        cost=5,
    )


@pytest.fixture
def trainings(alice):
    queued = _training(alice.user, "queued")
    TrainingJob.objects.filter(pk=queued.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    _training(alice.user, "queued")
    _training(alice.user, "training")
    _training(alice.user, "completed")


def test_the_status_lists_the_training_queue(staff, trainings, settings):
    settings.ATELIER_ADMIN_STATUS_CACHE_SECONDS = 0
    queues = {q["queue"]: q for q in staff.get("/admin/api/status").json()["scheduler"]["queues"]}
    assert "generation.local" in queues
    training = queues["training"]
    assert (training["depth"], training["processing"]) == (2, 1)
    assert 110 <= training["oldest_job_age_seconds"] <= 300


def test_metrics_show_the_training_queue(staff, trainings):
    response = signed_in(staff.user).get("/metrics")
    assert response.status_code == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    assert samples[("atelier_queue_depth", (("queue", "training"),))] == 2
    assert samples[("atelier_jobs_processing", (("queue", "training"),))] == 1
    assert samples[("atelier_queue_oldest_job_age_seconds", (("queue", "training"),))] >= 110


def test_the_dashboard_charts_the_training_queue_and_samples_it(staff, trainings):
    from ops.models import QueueSample
    from ops.queues import queue_samples_record

    queue_samples_record()
    assert QueueSample.objects.get(queue="training").depth == 2
    html = signed_in(staff.user).get("/admin/").content.decode()
    chart = html[html.index('data-chart="queues"') :]
    chart = chart[: chart.index("</svg>")]
    assert ">training</text>" in chart and ">generation.local</text>" in chart


def _overflow(svg: str, width: int = 640) -> list[str]:
    """The texts of a chart that would be drawn past its right edge or before its left one."""
    out = []
    for x, anchor, text in re.findall(
        r'<text class="(?:value|label)" x="([\d.]+)" y="[\d.]+"(?: text-anchor="(\w+)")?>([^<]*)<', svg
    ):
        size = len(text) * CHAR_WIDTH
        left, right = (float(x) - size, float(x)) if anchor == "end" else (float(x), float(x) + size)
        if left < 0 or right > width:
            out.append(text)
    return out


def test_the_latency_chart_keeps_its_p50_and_p95_labels_inside_the_chart():
    svg = bar_list(
        [
            Point("huggingface", 48_213, "p95 120000 ms, 12345 calls"),
            Point("local", 12, "p95 20 ms, 3 calls"),
            Point("fal-ai/flux-pro/v1.1-ultra-and-then-some", 900, "p95 1200 ms, 40 calls"),
        ],
        title="Provider latency p50",
        slug="latency",
        unit=" ms",
    )
    assert "48,213 ms (p95 120000 ms, 12345 calls)" in svg
    assert _overflow(str(svg)) == []
