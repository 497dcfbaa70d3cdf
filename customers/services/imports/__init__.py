"""CSV imports of customers and orders, shared by the management commands and the admin."""

from customers.services.imports.csv_rows import ImportAborted
from customers.services.imports.customers_import import customers_import
from customers.services.imports.orders_import import orders_import
from customers.services.imports.runner import ImportReport, RowFailure

__all__ = ["ImportAborted", "ImportReport", "RowFailure", "customers_import", "orders_import"]
