"""Celery tasks for ESP feedback and unsubscribes."""
