"""Offline English/Spanish classification of social customer-care posts.

>>> c = classify("My order never arrived and nobody answers!!")
>>> (c.language, c.intent, c.sentiment)
('en', 'complaint', 'negative')
"""

from __future__ import annotations

from .concepts import PLACE, shared_keys, topic_keys
from .core import Classification, classify
from .keywords import topic_keywords

__all__ = ["PLACE", "Classification", "classify", "shared_keys", "topic_keys", "topic_keywords"]
