"""Events the generation app announces to whoever listens.

``generation_completed`` is sent once when a generation has completed, after the transaction that
completed it has committed. Keyword arguments: ``generation_id``, ``user_id``, ``payload`` (the
generation as outside receivers see it, generation/webhook_payloads.py) and ``webhook_url`` (the
URL the request asked to be told at, or ""). The outbound webhooks deliver it as the
``image.generated`` event, to the subscribed endpoints and to ``webhook_url``.

``provider_call_finished`` is sent after every call to a provider (a submit or a poll), with
``provider``, ``duration_ms`` and ``ok`` (False for timeouts, 5xx, refusals and crashes; a request
the provider refused as bad input is the provider working). The operator console counts them.

``generation_started`` is sent once when a generation's provider work starts (it left
``in_queue`` for ``processing``), after that commits: ``generation_id``, ``user_id``,
``payload``, ``webhook_url``, ``events_filter`` (the request's ``webhook_events_filter``).

``generation_failed`` is sent once when a generation has failed or was cancelled, after that
commits: ``generation_id``, ``user_id``, ``status`` ("failed" or "cancelled"), ``payload`` (the
generation with its ``error``, generation/webhook_payloads.py) and ``webhook_url``. With
``generation_completed`` it is the terminal event: exactly one of the two is sent per generation.

``generation_log`` is sent for each log line a provider reports while it works:
``generation_id``, ``user_id``, ``team_id`` (the team's id as a string; None: personal),
``message``, ``webhook_url``, ``events_filter``. (A line a
provider reports after the end is sent too; ``webhook_payloads.generation_running`` tells.)

``generation_preview`` is sent for each in-progress picture that was published to the live
stream (after throttling): ``generation_id``, ``user_id``, ``team_id``, ``preview`` (the event's data without
the image bytes: ``index``, ``url``, ``width``, ``height``, ``step``, ``total_steps``),
``webhook_url``, ``events_filter``.
"""

from django.dispatch import Signal

generation_completed = Signal()
generation_failed = Signal()
provider_call_finished = Signal()
generation_started = Signal()
generation_log = Signal()
generation_preview = Signal()
