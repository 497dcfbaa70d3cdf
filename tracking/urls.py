"""Public tracking URLs: unsubscribe and ESP webhooks, opens and clicks."""

from tracking.urls_engagement import urlpatterns as engagement_urls
from tracking.urls_feedback import urlpatterns as feedback_urls

app_name = "tracking"
urlpatterns = feedback_urls + engagement_urls
