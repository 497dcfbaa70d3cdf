"""Settings for the two-beat test: the project's settings with the beat schedule compressed to
one second, so a minute of double scheduling fits in a test."""

from config.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    "journeys.tick": {"task": "journeys.tick", "schedule": 1.0},
    "campaigns.send_due_messages": {"task": "campaigns.send_due_messages", "schedule": 1.0},
}
