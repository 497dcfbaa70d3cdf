from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_admin_dashboard_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollment",
            name="entry",
            field=models.PositiveIntegerField(
                default=1,
                help_text="Which time this customer entered the campaign (re-entry after reentry_days adds one).",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="entry",
            field=models.PositiveIntegerField(
                default=1,
                help_text="The customer's entry into the campaign this message belongs to (a one-off send is 1).",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="esp_not_found_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the ESP first said it has no such message; a later lookup must agree.",
                null=True,
            ),
        ),
    ]
