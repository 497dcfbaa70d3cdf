"""Signals other apps can listen to.

shop_event_recorded
    Sent once for every event accepted by the event API, after its transaction has
    committed (so receivers see the stored rows). Keyword arguments:

    - ``customer_id`` (int): the customer the event belongs to,
    - ``event_type`` (str): one of ``customer_upserted``, ``order_placed``, ``cart_updated``,
      ``checkout_started``, ``product_viewed``, ``trial_started``, ``trial_converted``,
    - ``occurred_at`` (datetime, aware): when it happened in the shop.

    The sender is the string ``"event_api"``. Receivers should stay quick (enqueue a Celery
    task for anything slow); an exception in a receiver is logged and does not fail the
    API request, since the event is already stored.

    Example::

        from django.dispatch import receiver
        from customers.signals import shop_event_recorded

        @receiver(shop_event_recorded)
        def on_shop_event(sender, *, customer_id, event_type, occurred_at, **kwargs):
            ...
"""

from django.dispatch import Signal

shop_event_recorded = Signal()
