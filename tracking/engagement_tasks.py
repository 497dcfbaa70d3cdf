"""Celery tasks for opens, clicks and engagement scores."""
