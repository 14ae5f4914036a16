"""Events the generation app announces to whoever listens.

``generation_completed`` is sent once when a generation has completed, after the transaction that
completed it has committed. Keyword arguments: ``generation_id``, ``user_id``, ``payload`` (the
generation as outside receivers see it, generation/webhook_payloads.py) and ``webhook_url`` (the
URL the request asked to be told at, or ""). The outbound webhooks deliver it as the
``image.generated`` event, to the subscribed endpoints and to ``webhook_url``.

``provider_call_finished`` is sent after every call to a provider (a submit or a poll), with
``provider``, ``duration_ms`` and ``ok`` (False for timeouts, 5xx, refusals and crashes; a request
the provider refused as bad input is the provider working). The operator console counts them.
"""

from django.dispatch import Signal

generation_completed = Signal()
provider_call_finished = Signal()
