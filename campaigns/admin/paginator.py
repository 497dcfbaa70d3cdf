"""A paginator that does not COUNT(*) a whole big table on every change list load.

Unfiltered, on PostgreSQL, the planner's row estimate (pg_class.reltuples, kept fresh by
autovacuum) stands in for the count once it is large; filtered lists count exactly.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_BELOW = 100_000


def estimated_rows(model) -> int | None:
    connection = connections[model.objects.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] and row[0] > 0 else None


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where:
            estimate = estimated_rows(self.object_list.model)
            if estimate is not None and estimate >= EXACT_BELOW:
                return estimate
        return super().count
