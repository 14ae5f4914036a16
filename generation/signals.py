"""Events the generation app announces to whoever listens.

``generation_completed`` is sent once when a generation has completed, after the transaction that
completed it has committed. Keyword arguments: ``generation_id``, ``user_id``, ``payload`` (the
generation as outside receivers see it, generation/webhook_payloads.py) and ``webhook_url`` (the
URL the request asked to be told at, or ""). The outbound webhooks deliver it as the
``image.generated`` event, to the subscribed endpoints and to ``webhook_url``.
"""

from django.dispatch import Signal

generation_completed = Signal()
