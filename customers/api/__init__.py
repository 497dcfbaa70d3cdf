"""The shop-facing JSON API, served under /api/v1/ (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema

from customers.api.errors import install_error_handlers
from customers.api.events import router as events_router
from customers.services.events.schemas import EventBatch


class EventApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        """Adds the event shapes, which the view validates one by one rather than as a whole body."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        body = EventBatch.model_json_schema(ref_template=REF_TEMPLATE)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(body.pop("$defs", {}))
        components["EventBatch"] = body
        return schema


api = EventApi(
    title="Shop event API",
    version="1",
    description="The shop pushes customers, orders, carts, product views and trials as batches of events.",
    urls_namespace="api_v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
api.add_router("", events_router)
