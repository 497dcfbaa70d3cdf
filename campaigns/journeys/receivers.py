"""Goal events from the event API end journeys at once instead of at the next tick."""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django.utils import timezone

from campaigns.journeys.services.exits import customer_enrollments_exit
from customers.signals import shop_event_recorded

logger = logging.getLogger(__name__)


@receiver(shop_event_recorded, dispatch_uid="journeys_exit_on_goal")
def exit_on_goal(sender, *, customer_id: int, event_type: str, occurred_at, **kwargs) -> None:
    exited = customer_enrollments_exit(customer_id=customer_id, event_type=event_type, now=timezone.now())
    if exited:
        logger.info("customer %s left %s journeys on %s", customer_id, exited, event_type)
