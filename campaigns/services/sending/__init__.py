"""The send path: plan rows, claim them atomically, send through anymail, reconcile doubts."""

from campaigns.services.sending.delivery import message_send_batch, messages_send_due
from campaigns.services.sending.planning import CampaignNotSendable, campaign_send_now, message_plan_one_off
from campaigns.services.sending.reconcile import message_mark_sent, message_requeue_unknown, messages_reconcile

__all__ = [
    "CampaignNotSendable",
    "campaign_send_now",
    "message_mark_sent",
    "message_plan_one_off",
    "message_requeue_unknown",
    "message_send_batch",
    "messages_reconcile",
    "messages_send_due",
]
