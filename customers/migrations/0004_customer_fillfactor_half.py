"""Leave half of each customer page free on PostgreSQL.

The nightly metrics rewrite every buyer's row. At fillfactor 80 a page had room for the new
versions of about a fifth of its rows; the rest moved to other pages and were inserted into
each of the table's indexes (measured: 29% of the updates in place). At 50 every row of a page
can get its new version on the same page, so the nightly write is all in-place (HOT) updates
as long as no indexed column changes. The table then takes the size it reaches anyway after
the first nightly run. Only new and rewritten pages use the setting; `VACUUM FULL
customers_customer` applies it to an existing table.
"""

from importlib import import_module

from django.db import migrations

set_fillfactor = import_module("customers.migrations.0003_customer_fillfactor").set_fillfactor


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_customer_fillfactor")]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: set_fillfactor(apps, schema_editor, 50),
            lambda apps, schema_editor: set_fillfactor(apps, schema_editor, 80),
        ),
    ]
