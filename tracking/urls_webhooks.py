"""ESP webhooks under /webhooks/anymail/, in anymail's own "anymail" URL namespace.

The tracking webhooks of the ESPs we document (Postmark, SendGrid, Mailgun) are served by the
per-event views of tracking.webhooks; every other anymail URL is anymail's own.
"""

from anymail.urls import urlpatterns as anymail_urlpatterns
from django.urls import URLPattern, URLResolver, path

from tracking.webhooks import MailgunTrackingView, PostmarkTrackingView, SendGridTrackingView

app_name = "anymail"
_OURS = {
    "mailgun_tracking_webhook": path(
        "mailgun/tracking/", MailgunTrackingView.as_view(), name="mailgun_tracking_webhook"
    ),
    "postmark_tracking_webhook": path(
        "postmark/tracking/", PostmarkTrackingView.as_view(), name="postmark_tracking_webhook"
    ),
    "sendgrid_tracking_webhook": path(
        "sendgrid/tracking/", SendGridTrackingView.as_view(), name="sendgrid_tracking_webhook"
    ),
}
urlpatterns: list[URLPattern | URLResolver] = [
    _OURS.get(getattr(pattern, "name", None) or "", pattern) for pattern in anymail_urlpatterns
]
