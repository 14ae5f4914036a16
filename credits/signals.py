"""Events the credits app announces to whoever listens.

``credits_low`` is sent once each time a balance falls from at or above
``ATELIER_CREDITS_LOW_THRESHOLD`` to below it, after the transaction that moved it has
committed. Keyword arguments: ``user_id``, ``credits_remaining``, ``threshold``. The outbound
webhooks deliver it as the ``credits.low`` event (seed 004: ``{user_id, credits_remaining}``).
"""

from django.dispatch import Signal

credits_low = Signal()
