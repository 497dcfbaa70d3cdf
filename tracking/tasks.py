"""Celery discovers tasks here; they live in modules named for what they do."""

from tracking.engagement_tasks import *  # noqa: F401,F403
from tracking.feedback_tasks import *  # noqa: F401,F403
