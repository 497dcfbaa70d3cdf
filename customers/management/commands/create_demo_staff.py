"""python manage.py create_demo_staff: demo logins admin, marketing and privacy (never in production)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from customers.roles import data_protection_group_sync, marketing_group_sync

DEMO_USERS = (
    # username, password, email (where their test sends go), superuser, group
    ("admin", "admin", "admin@shop.example", True, None),
    ("marketing", "marketing", "marketing@shop.example", False, marketing_group_sync),
    ("privacy", "privacy", "privacy@shop.example", False, data_protection_group_sync),
)


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo staff logins admin/admin, marketing/marketing (Marketing group) and "
        "privacy/privacy (Data protection group). Refused in production."
    )

    def handle(self, *args, **options) -> None:
        if settings.APP_ENV == "production":
            raise CommandError("refusing to create demo logins with known passwords when APP_ENV=production")
        user_model = get_user_model()
        with transaction.atomic():
            for username, password, email, superuser, group_sync in DEMO_USERS:
                user, created = user_model.objects.get_or_create(username=username)
                user.is_staff = True
                user.is_superuser = superuser
                user.is_active = True
                user.email = user.email or email  # an address the user set for themselves stays
                user.set_password(password)
                user.save()
                group = group_sync() if group_sync else None
                if group is not None:
                    user.groups.add(group)
                verb = "created" if created else "reset"
                role = "superuser" if group is None else f"staff in group {group.name}"
                self.stdout.write(f"{verb} login {username} / {password} ({role}, test sends to {user.email})")
