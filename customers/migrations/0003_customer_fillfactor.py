"""Leave free space in customer pages on PostgreSQL.

The nightly metrics job rewrites every buyer's row. When no indexed column changes (the
usual case: stage, segment, order count and last order stay the same from one night to
the next) PostgreSQL can then update the row in place on its page (a HOT update) instead
of inserting into each of the table's indexes. Only new and rewritten pages use the setting.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor, value: int) -> None:
    if schema_editor.connection.vendor == "postgresql":
        table = apps.get_model("customers", "Customer")._meta.db_table
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(value)})")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_model_fit")]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: set_fillfactor(apps, schema_editor, 80),
            lambda apps, schema_editor: set_fillfactor(apps, schema_editor, 100),
        ),
    ]
