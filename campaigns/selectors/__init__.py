"""Read-side queries over campaigns and messages."""

from campaigns.journeys.selectors.segments import segment_customers

__all__ = ["segment_customers"]
