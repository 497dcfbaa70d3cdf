"""Beat tasks of the journeys: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from campaigns.journeys.services.attribution import orders_attribute
from campaigns.journeys.services.tick import journeys_tick


@shared_task(name="journeys.tick", soft_time_limit=240, time_limit=300, ignore_result=True)
def tick() -> dict:
    return dict(journeys_tick())


@shared_task(name="journeys.attribute_orders", soft_time_limit=240, time_limit=300, ignore_result=True)
def attribute_orders() -> int:
    return orders_attribute()
