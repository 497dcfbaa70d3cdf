"""Settings for the django-post-office peer in bench/send_postoffice.py (never used elsewhere).

The project's settings plus post_office, sending through the same anymail Postmark backend
(POSTMARK_API_URL points it at the fake ESP) with as many threads as SEND_CONCURRENCY.
"""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, SEND_BATCH_SIZE, SEND_CONCURRENCY

INSTALLED_APPS = [*INSTALLED_APPS, "post_office"]
POST_OFFICE = {
    "BACKENDS": {"default": "anymail.backends.postmark.EmailBackend"},
    "THREADS_PER_PROCESS": SEND_CONCURRENCY,
    "BATCH_SIZE": SEND_BATCH_SIZE,
    "LOG_LEVEL": 1,  # log failures only, as our sender records only outcomes
    "MESSAGE_ID_ENABLED": False,
}
