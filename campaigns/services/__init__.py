"""Writes on campaigns, one module per concept; call sites read ``services.x``.

* ``attribution``: which campaign touched a contact first and last;
* ``links``: tracked links, their signed per-person URL and their clicks;
* ``posts``: scheduled posts, sent by the outbox at their time;
* ``feed``: like, reply, follow or dismiss a post of the listening feed;
* ``listening``: rules, and searching the networks for them (run by ``campaigns.tasks``).

Everything sent to a network goes through ``crm.outbox.outbound_queue``.
"""

from __future__ import annotations

from .attribution import attribution_touch
from .feed import match_dismiss, match_follow, match_like, match_reply
from .links import (
    link_click_record,
    tracked_link_check,
    tracked_link_contact_id,
    tracked_link_save,
    tracked_link_url,
)
from .listening import (
    ListenResult,
    campaign_listen_now,
    listening_account,
    listening_due,
    listening_rule_save,
    post_wanted,
    rule_listen,
    rule_networks,
)
from .posts import (
    LINK_PLACEHOLDER,
    post_text_with_link,
    scheduled_post_cancel,
    scheduled_post_check,
    scheduled_post_create,
    scheduled_posts_create,
)

__all__ = [
    "LINK_PLACEHOLDER",
    "ListenResult",
    "attribution_touch",
    "campaign_listen_now",
    "link_click_record",
    "listening_account",
    "listening_due",
    "listening_rule_save",
    "match_dismiss",
    "match_follow",
    "match_like",
    "match_reply",
    "post_text_with_link",
    "post_wanted",
    "rule_listen",
    "rule_networks",
    "scheduled_post_cancel",
    "scheduled_post_check",
    "scheduled_post_create",
    "scheduled_posts_create",
    "tracked_link_check",
    "tracked_link_contact_id",
    "tracked_link_save",
    "tracked_link_url",
]
