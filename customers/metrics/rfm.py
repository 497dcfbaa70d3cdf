"""RFM scores 1–5 by quintiles over buyers, and named segments.

A score is 1 + floor(5 × the share of buyers with a strictly worse value), so with distinct
values each score holds a fifth of the buyers, and tied customers always share a score:
in a shop where most people bought once, every one-time buyer gets F = 1, instead of
being split between scores at random as NTILE would do.

Segments, from the recency score R and FM = round((F + M) / 2) (first rule that matches):

    champions            R 4–5, FM 4–5        bought recently, often, and spend a lot
    new                  R 4–5, one order     first order was recent
    loyal                R 3–5, FM 3–5        steady, valuable buyers
    potential loyalists  R 3–5, FM 1–2        recent, but few or small orders so far
    can't lose           R 1–2, FM 4–5        were among the best, gone quiet
    at risk              R 1–2, FM 3          valuable, gone quiet
    hibernating          R 2,   FM 1–2        low value, quiet for a while
    lost                 R 1,   FM 1–2        low value, quiet the longest
"""

from __future__ import annotations

import numpy as np

from customers.models import RfmSegment


def quintile_scores(values: np.ndarray) -> np.ndarray:
    """Score 1–5 where higher values score higher; ties share the score."""
    values = np.asarray(values, dtype=float)
    n = values.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    worse = np.searchsorted(np.sort(values), values, side="left")
    return 1 + np.minimum(4, (5 * worse) // n).astype(np.int64)


def rfm_scores(
    *, last_order_epoch: np.ndarray, orders_count: np.ndarray, total_spent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return quintile_scores(last_order_epoch), quintile_scores(orders_count), quintile_scores(total_spent)


def rfm_segments(*, recency: np.ndarray, frequency: np.ndarray, monetary: np.ndarray, orders_count: np.ndarray):
    """Segment names (RfmSegment values) for the scores, as an object array."""
    fm = (frequency + monetary + 1) // 2
    high_r = recency >= 4
    conditions = [
        high_r & (fm >= 4),
        high_r & (orders_count == 1),
        (recency >= 3) & (fm >= 3),
        recency >= 3,
        fm >= 4,
        fm == 3,
        recency == 2,
    ]
    choices = [
        RfmSegment.CHAMPIONS,
        RfmSegment.NEW,
        RfmSegment.LOYAL,
        RfmSegment.POTENTIAL_LOYALISTS,
        RfmSegment.CANT_LOSE,
        RfmSegment.AT_RISK,
        RfmSegment.HIBERNATING,
    ]
    return np.select(conditions, [c.value for c in choices], default=RfmSegment.LOST.value).astype(object)
