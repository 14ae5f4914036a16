"""A generation's ``webhook_events_filter``: its ``webhook_url`` receives the in-progress events it
asks for (``start``, ``preview``, ``logs``) and always the terminal one, signed with its owner's
secret, each type paced to one message per interval with nothing lost but pictures superseded."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from generation.models import Generation, Status
from generation.services.events import generation_record_log
from generation.services.lifecycle import generation_fail
from generation.signals import generation_preview
from generation.state import transition
from tests.helpers import generate
from tests.webhooks.conftest import create_endpoint
from webhooks.models import WebhookDelivery
from webhooks.tasks import deliver_webhook

# Committed for real: announcements go out when their transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

RENDERED = "Rendered image {} of {}"


def _secret(client) -> str:
    return client.get("/api/user/webhook-secret").json()["webhook_secret"]["secret"]


def _generated(client, **payload) -> str:
    """A local generation, run to its end inside the request (tasks run in process here)."""
    response = generate(client, width=64, height=64, **payload)
    assert response.status_code == 201, response.content
    return response.json()["generation"]["id"]


def _events(receiver, secret: str, path: str) -> list[dict]:
    """What reached ``path``, in order of arrival, each checked with ``secret``."""
    return [request.verified(secret) for request in receiver.received if request.path == path]


def _types(events: list[dict]) -> list[str]:
    return [event["type"] for event in events]


def _lines(events: list[dict]) -> list[list[str]]:
    return [[line["message"] for line in event["data"]["lines"]] for event in events if event["type"] == "image.log"]


@pytest.fixture
def held():
    """Task messages wait at the broker: the test is the worker, and runs each step itself."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def _deliver_due() -> None:
    """What the worker does for deliveries that are due: send them, oldest first."""
    due = WebhookDelivery.objects.filter(status="pending", next_attempt_at__lte=timezone.now()).order_by(
        "next_attempt_at", "created_at"
    )
    for delivery_id in list(due.values_list("pk", flat=True)):
        deliver_webhook(str(delivery_id))


def _running(client, **payload) -> Generation:
    """A generation a worker has claimed and that runs still (its provider reports by hand)."""
    generation_id = _generated(client, **payload)
    assert transition(generation_id=generation_id, to=Status.PROCESSING)
    return Generation.objects.get(pk=generation_id)


def test_start_logs_and_completed_arrive_in_order_and_signed(alice, receiver):
    secret = _secret(alice)
    generation_id = _generated(
        alice, num_images=3, webhook_url=receiver.url("/mine"), webhook_events_filter=["start", "logs", "completed"]
    )

    events = _events(receiver, secret, "/mine")
    types = _types(events)
    assert types[0] == "image.started"
    assert types[-1] == "image.generated"
    assert set(types[1:-1]) == {"image.log"}
    # Every line the provider wrote, in order, however they were grouped into messages.
    assert sum(_lines(events), []) == [RENDERED.format(n, 3) for n in (1, 2, 3)]
    assert {event["data"]["generation_id"] for event in events} == {generation_id}
    assert {event["data"]["user_id"] for event in events} == {alice.user.pk}
    started = events[0]["data"]
    assert started["status"] == "processing"
    assert started["model"] == "local/procedural"
    assert started["started_at"]
    assert len(events[-1]["data"]["images"]) == 3
    assert len({request.headers["webhook-id"] for request in receiver.received}) == len(events)


def test_without_a_filter_only_the_terminal_event_is_sent(alice, receiver):
    _generated(alice, num_images=2, webhook_url=receiver.url("/mine"))
    assert _types(_events(receiver, _secret(alice), "/mine")) == ["image.generated"]


def test_a_filter_without_start_gets_no_start(alice, receiver):
    _generated(alice, num_images=2, webhook_url=receiver.url("/mine"), webhook_events_filter=["logs"])
    types = _types(_events(receiver, _secret(alice), "/mine"))
    assert "image.started" not in types
    assert types[0] == "image.log"
    assert types[-1] == "image.generated"


def test_a_burst_of_log_lines_is_coalesced_into_the_next_message(alice, receiver, settings):
    # Far longer than the render: every line after the first waits for the next message.
    settings.ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS = 60_000
    _generated(alice, num_images=4, webhook_url=receiver.url("/mine"), webhook_events_filter=["logs"])

    events = _events(receiver, _secret(alice), "/mine")
    assert _types(events) == ["image.log", "image.log", "image.generated"]
    assert _lines(events) == [[RENDERED.format(1, 4)], [RENDERED.format(n, 4) for n in (2, 3, 4)]]


def test_a_waiting_message_goes_when_its_interval_has_run_out(alice, receiver, settings, held):
    settings.ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS = 500
    secret = _secret(alice)
    generation = _running(alice, webhook_url=receiver.url("/mine"), webhook_events_filter=["logs"])
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n in range(1, 6):
            generation_record_log(generation_id=generation.pk, message=f"step {n}")
        _deliver_due()
        assert _lines(_events(receiver, secret, "/mine")) == [["step 1"]]

        clock.move_to(start + timedelta(milliseconds=499))
        _deliver_due()
        assert len(receiver.received) == 1  # not yet

        clock.move_to(start + timedelta(milliseconds=500))
        _deliver_due()
        assert _lines(_events(receiver, secret, "/mine")) == [["step 1"], ["step 2", "step 3", "step 4", "step 5"]]

        # Long after the last message, the next line goes at once.
        clock.move_to(start + timedelta(seconds=5))
        generation_record_log(generation_id=generation.pk, message="step 6")
        _deliver_due()
        assert _lines(_events(receiver, secret, "/mine"))[-1] == ["step 6"]


@pytest.mark.postgres
def test_lines_reported_at_once_by_many_threads_make_one_message_now_and_one_later(alice, receiver, settings, held):
    # A provider that reads a websocket reports from its listener thread while the worker's own
    # thread reports too: the first message of a type is paced like the others.
    settings.ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS = 60_000
    generation = _running(alice, webhook_url=receiver.url("/mine"), webhook_events_filter=["logs"])
    start = threading.Barrier(5)

    def report(n: int) -> None:
        start.wait()
        generation_record_log(generation_id=generation.pk, message=f"line {n}")
        connection.close()

    threads = [threading.Thread(target=report, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert alice.delete(f"/api/generate/{generation.pk}").status_code == 200
    _deliver_due()

    events = _events(receiver, _secret(alice), "/mine")
    assert _types(events) == ["image.log", "image.log", "image.cancelled"]
    lines = _lines(events)
    assert len(lines[0]) == 1
    assert sorted(sum(lines, [])) == sorted(f"line {n}" for n in range(5))


def test_lines_still_waiting_go_before_the_terminal_event_and_nothing_after_it(alice, receiver, settings, held):
    settings.ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS = 60_000  # however slow the machine, they wait
    secret = _secret(alice)
    generation = _running(alice, webhook_url=receiver.url("/mine"), webhook_events_filter=["logs"])
    for n in range(1, 4):
        generation_record_log(generation_id=generation.pk, message=f"step {n}")

    assert alice.delete(f"/api/generate/{generation.pk}").status_code == 200
    _deliver_due()
    generation_record_log(generation_id=generation.pk, message="a late line")  # kept on the job only
    _deliver_due()

    events = _events(receiver, secret, "/mine")
    assert _types(events) == ["image.log", "image.log", "image.cancelled"]
    assert _lines(events) == [["step 1"], ["step 2", "step 3"]]
    cancelled = events[-1]["data"]
    assert cancelled["status"] == Status.CANCELLED
    assert cancelled["error_type"] == "cancelled"
    assert cancelled["generation_id"] == str(generation.pk)
    assert "a late line" in [line["message"] for line in Generation.objects.get(pk=generation.pk).logs]


def test_a_start_not_sent_yet_when_the_job_ends_still_goes_before_the_end(alice, receiver, held):
    # A fast job: it ends before any worker has taken the start's delivery.
    generation = _running(alice, webhook_url=receiver.url("/mine"), webhook_events_filter=["start"])
    assert alice.delete(f"/api/generate/{generation.pk}").status_code == 200
    _deliver_due()
    assert _types(_events(receiver, _secret(alice), "/mine")) == ["image.started", "image.cancelled"]


def test_a_failed_generation_sends_image_failed_exactly_once(alice, receiver, held):
    generation = _running(alice, webhook_url=receiver.url("/mine"))
    assert generation_fail(generation_id=generation.pk, message="The provider gave up")
    assert not generation_fail(generation_id=generation.pk, message="Again")
    _deliver_due()

    [failed] = _events(receiver, _secret(alice), "/mine")
    assert failed["type"] == "image.failed"
    assert failed["data"]["status"] == Status.FAILED
    assert failed["data"]["error"] == "The provider gave up"


def test_previews_go_paced_the_newest_winning(alice, receiver, settings, held):
    settings.ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS = 500
    secret = _secret(alice)
    generation = _running(alice, webhook_url=receiver.url("/mine"), webhook_events_filter=["preview"])
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for index in range(3):
            # What the worker announces for each picture it published on the live stream.
            generation_preview.send(
                sender=Generation,
                generation_id=generation.pk,
                user_id=alice.user.pk,
                preview={"index": index, "url": "/preview", "width": 64, "height": 64, "step": index, "total_steps": 3},
                webhook_url=generation.webhook_url,
                events_filter=generation.webhook_events_filter,
            )
        _deliver_due()
        clock.move_to(start + timedelta(seconds=1))
        _deliver_due()

    events = _events(receiver, secret, "/mine")
    assert _types(events) == ["image.preview", "image.preview"]
    assert [event["data"]["preview"]["index"] for event in events] == [0, 2]
    assert events[0]["data"]["preview"]["width"] == 64


def test_the_local_providers_pictures_reach_a_filter_that_asks_for_previews(alice, receiver):
    secret = _secret(alice)
    generation_id = _generated(
        alice, webhook_url=receiver.url("/mine"), webhook_events_filter=["start", "preview", "completed"]
    )

    events = _events(receiver, secret, "/mine")
    types = _types(events)
    assert types[0] == "image.started"
    assert types[-1] == "image.generated"
    previews = [event["data"] for event in events if event["type"] == "image.preview"]
    assert previews, types
    assert set(types[1:-1]) == {"image.preview"}
    assert [preview["preview"]["index"] for preview in previews] == sorted(p["preview"]["index"] for p in previews)
    first = previews[0]
    assert first["generation_id"] == generation_id
    assert first["status"] == "processing"
    assert 0 < max(first["preview"]["width"], first["preview"]["height"]) <= 256
    assert generation_id in first["preview"]["url"]


def test_previews_off_sends_no_pictures(alice, receiver):
    _generated(alice, previews=False, webhook_url=receiver.url("/mine"), webhook_events_filter=["preview"])
    assert _types(_events(receiver, _secret(alice), "/mine")) == ["image.generated"]


def test_a_picture_still_waiting_at_the_end_is_dropped(alice, receiver, settings, held):
    settings.ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS = 60_000  # however slow the machine, it waits
    generation = _running(alice, webhook_url=receiver.url("/mine"), webhook_events_filter=["preview"])
    for index in range(2):
        generation_preview.send(
            sender=Generation,
            generation_id=generation.pk,
            user_id=alice.user.pk,
            preview={"index": index, "url": "/preview", "width": 64, "height": 64, "step": None, "total_steps": None},
            webhook_url=generation.webhook_url,
            events_filter=generation.webhook_events_filter,
        )
        _deliver_due()  # the first goes at once, the second waits for its time
    assert alice.delete(f"/api/generate/{generation.pk}").status_code == 200
    _deliver_due()
    events = _events(receiver, _secret(alice), "/mine")
    assert _types(events) == ["image.preview", "image.cancelled"]
    assert events[0]["data"]["preview"]["index"] == 0


def test_a_second_users_webhooks_never_see_the_first_users_events(alice, bob, receiver):
    everything = ["start", "preview", "logs", "completed"]
    alices = _generated(alice, num_images=2, webhook_url=receiver.url("/alice"), webhook_events_filter=everything)
    bobs = _generated(bob, webhook_url=receiver.url("/bob"), webhook_events_filter=everything)

    bob_secret = _secret(bob)
    to_bob = _events(receiver, bob_secret, "/bob")
    assert _types(to_bob)[0] == "image.started"
    assert _types(to_bob)[-1] == "image.generated"
    assert {event["data"]["generation_id"] for event in to_bob} == {bobs}
    assert {event["data"]["user_id"] for event in to_bob} == {bob.user.pk}
    to_alice = _events(receiver, _secret(alice), "/alice")
    assert {event["data"]["generation_id"] for event in to_alice} == {alices}
    # Alice's messages are signed with her secret, never with Bob's.
    with pytest.raises(Exception, match="(?i)signature"):
        next(r for r in receiver.received if r.path == "/alice").verified(bob_secret)


def test_cancelling_all_of_mine_tells_only_my_webhook_url(alice, bob, receiver, held):
    mine = [_generated(alice, webhook_url=receiver.url("/alice")) for _ in range(2)]
    bobs = _generated(bob, webhook_url=receiver.url("/bob"))

    body = alice.post("/api/generate/cancel", {"all": True}, format="json").json()
    assert sorted(body["generation_ids"]) == sorted(mine)
    _deliver_due()

    to_alice = _events(receiver, _secret(alice), "/alice")
    assert _types(to_alice) == ["image.cancelled", "image.cancelled"]
    assert sorted(event["data"]["generation_id"] for event in to_alice) == sorted(mine)
    assert not [r for r in receiver.received if r.path == "/bob"]
    assert Generation.objects.get(pk=bobs).status == Status.IN_QUEUE


def test_endpoints_receive_in_progress_events_only_when_they_name_them(alice, staff, receiver):
    everything = create_endpoint(staff, receiver.url("/all"), events=[])
    progress = create_endpoint(staff, receiver.url("/progress"), events=["image.started", "image.log"])

    generation_id = _generated(alice, num_images=2)

    assert _types(_events(receiver, everything["secret"], "/all")) == ["image.generated"]
    to_progress = _events(receiver, progress["secret"], "/progress")
    assert _types(to_progress)[0] == "image.started"
    assert set(_types(to_progress)[1:]) == {"image.log"}
    assert {event["data"]["generation_id"] for event in to_progress} == {generation_id}


def test_the_schema_documents_the_filter_and_what_webhook_url_receives(anon):
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/generate"]["post"]
    [callback] = operation["callbacks"]["webhook_url"].values()
    body = callback["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    mapping = schema["components"]["schemas"][body]["discriminator"]["mapping"]
    assert set(mapping) == {
        "image.started",
        "image.preview",
        "image.log",
        "image.generated",
        "image.failed",
        "image.cancelled",
    }
    log = schema["components"]["schemas"][mapping["image.log"].split("/")[-1]]
    assert {"type", "timestamp", "data"} <= set(log["properties"])
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    events = schema["components"]["schemas"][request]["properties"]["webhook_events_filter"]["items"]
    enum = schema["components"]["schemas"][events["$ref"].split("/")[-1]]["enum"]
    assert enum == ["start", "preview", "logs", "completed"]
