"""Admin for shop data. Each module registers its own models."""

from customers.admin import api_keys, audit, customers, metrics  # noqa: F401
