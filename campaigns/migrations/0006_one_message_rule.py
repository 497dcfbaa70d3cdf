from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0005_backfill_entries"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="message", name="message_unique_enrollment_step"),
        migrations.RemoveConstraint(model_name="message", name="message_unique_campaign_customer"),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_test", False)),
                fields=("campaign", "customer", "step", "entry"),
                name="message_unique_campaign_customer_step_entry",
            ),
        ),
        migrations.AddConstraint(
            model_name="enrollment",
            constraint=models.UniqueConstraint(
                fields=("campaign", "customer", "entry"), name="enrollment_unique_entry"
            ),
        ),
        migrations.AddConstraint(
            model_name="enrollment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "active")), fields=("campaign", "customer"), name="enrollment_one_active"
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "one_off"), _negated=True), ("trigger", "manual"), _connector="OR"
                ),
                name="campaign_one_off_sent_by_staff",
            ),
        ),
    ]
