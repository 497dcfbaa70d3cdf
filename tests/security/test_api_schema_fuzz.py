"""Schemathesis fuzzes the public event API from its own OpenAPI schema, in process (WSGI).

Every generated request (valid and schema-violating bodies, with a valid API key) must get an
answer that is not a 5xx and that matches the documented status codes, content type and
response schema. Bounded: a few dozen examples per operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from customers.services.events.api_keys import api_key_create

pytestmark = pytest.mark.django_db


# Loaded at collection: the schema view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The coverage phase alone sends over a thousand boundary-value requests (15 s); the fuzzing phase is enough here.
schema.config.phases.coverage.enabled = False


@pytest.fixture(autouse=True)
def _in_process(settings):
    settings.EVENT_API_RATE_PER_MINUTE = 0  # the limit has its own test; here every request must reach the view
    # Called in this thread, the app would close the test's connection (and its transaction) after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_event_api_conforms_to_its_schema_and_never_errors(case):
    _key, secret = api_key_create(name="Schemathesis")
    case.call_and_validate(
        headers={"Authorization": f"Bearer {secret}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
