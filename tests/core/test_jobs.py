"""The job kernel on its own: moves by compare-and-swap under a lease, events stored with the
move and announced when it commits, and a feed that sends each event once and ends with the job.

It is generic over the models it is given: here a kind of job made up for the test, over the
training models, with a table of moves of its own.
"""

import pytest
from django.db import transaction

from core import jobs, pubsub
from core.jobs.stream import after_resync
from training.models import TrainingDataset, TrainingEvent, TrainingJob

pytestmark = pytest.mark.django_db(transaction=True)

# A smaller machine than training's: queued → training → completed, or cancelled from either.
KIND = jobs.JobKind(
    model=TrainingJob,
    event_model=TrainingEvent,
    job_field="job_id",
    allowed_from={
        "training": frozenset({"queued"}),
        "completed": frozenset({"training"}),
        "cancelled": frozenset({"queued", "training"}),
    },
    terminal_statuses=frozenset({"completed", "cancelled"}),
    channel=lambda job_id: f"kernel-test:{job_id}",
)


@pytest.fixture
def job(alice):
    dataset = TrainingDataset.objects.create(user=alice.user, archive="d.zip", image_count=1, total_size=1)
    return TrainingJob.objects.create(
        user=alice.user, dataset=dataset, provider="local", trigger_word="t", steps=10, learning_rate=0.1, cost=0
    )


def _status(job) -> str:
    return TrainingJob.objects.values_list("status", flat=True).get(pk=job.pk)


def test_a_move_its_table_does_not_allow_is_refused_and_an_unknown_status_raises(job):
    assert jobs.transition(KIND, job_id=job.pk, to="completed", fields={}) is None
    assert _status(job) == "queued" and not TrainingEvent.objects.exists()
    with pytest.raises(jobs.IllegalTransition):
        jobs.transition(KIND, job_id=job.pk, to="uploading", fields={})


def test_only_the_holder_of_the_current_lease_moves_the_job(job):
    lease = jobs.claim(KIND, job_id=job.pk, to="training", fields={})
    assert lease and _status(job) == "training"
    assert jobs.claim(KIND, job_id=job.pk, to="training", fields={}) is None, "claimed once"
    assert jobs.transition(KIND, job_id=job.pk, to="completed", fields={}, holder="someone else") is None
    assert not jobs.record(KIND, job_id=job.pk, where={"lease": "someone else"}, fields={"progress": 50}, events=[])
    moved = jobs.transition(KIND, job_id=job.pk, to="completed", fields={"progress": 100}, holder=lease)
    assert [(e.type, e.data) for e in moved] == [("status", {"status": "completed", "progress": 100})]


def test_a_move_stores_its_log_line_then_its_status_and_announces_them_when_it_commits(job):
    with pubsub.subscribe(KIND.channel(job.pk)) as subscription:
        with transaction.atomic():
            line = jobs.log_line("Started")
            jobs.transition(KIND, job_id=job.pk, to="training", fields={}, log=line)
            assert subscription.get_blocking(0.1) is None, "announced before its commit"
        message = subscription.get_blocking(5)
        stored = list(TrainingEvent.objects.filter(job=job).values_list("pk", "type", "data"))
        assert message == {"events": [{"id": pk, "type": type, "data": data} for pk, type, data in stored]}
        assert [type for _, type, _ in stored] == ["log", "status"]

        with pytest.raises(RuntimeError), transaction.atomic():
            jobs.transition(KIND, job_id=job.pk, to="cancelled", fields={})
            raise RuntimeError("rolled back")
        assert subscription.get_blocking(0.2) is None, "announced a move that was rolled back"
    assert _status(job) == "training"


def test_a_feed_sends_each_event_once_after_the_last_seen_and_ends_on_the_terminal_status(job):
    feed = jobs.Feed(KIND, job_id=job.pk, last_event_id=1)
    events = [
        {"id": 1, "type": "log", "data": {"message": "seen before"}},
        {"id": 2, "type": "status", "data": {"status": "training"}},
    ]
    first = feed.receive([{"events": events}, {"events": events[1:]}])
    assert first == ['id: 2\nevent: status\ndata: {"status":"training"}\n\n']
    assert not feed.done
    feed.receive([{"events": [{"id": 3, "type": "status", "data": {"status": "cancelled"}}]}])
    assert feed.done and feed.status == "cancelled"


def test_a_resync_drops_the_messages_before_it_for_a_read_of_the_database():
    assert after_resync([{"events": []}]) == (None, [{"events": []}])
    assert after_resync([{"a": 1}, pubsub.RESYNC, {"b": 2}]) == (1, [{"b": 2}])
