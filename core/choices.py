from django.db import models
from django.utils.translation import gettext_lazy as _


class Network(models.TextChoices):
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    YOUTUBE = "youtube", "YouTube"
    LINKEDIN = "linkedin", "LinkedIn"


class EntryKind(models.TextChoices):
    # Social interactions (from sync, listening, or sent by us).
    MENTION = "mention", _("Mention")
    REPLY = "reply", _("Reply")
    QUOTE = "quote", _("Quote")
    FOLLOW = "follow", _("Follow")
    LIKE = "like", _("Like")
    REPOST = "repost", _("Repost")
    DM = "dm", _("Direct message")
    POST = "post", _("Post")
    # Events recorded by Momento itself.
    NOTE = "note", _("Note")
    STAGE_CHANGE = "stage_change", _("Stage change")
    PURCHASE = "purchase", _("Purchase")
    TICKET = "ticket", _("Ticket")
    CSAT = "csat", _("Satisfaction rating")
    # A to-do (``contacts.Todo``); stored and served as "task", the UI's word for it.
    TODO = "task", _("Task")


SOCIAL_KINDS = frozenset(
    {
        EntryKind.MENTION,
        EntryKind.REPLY,
        EntryKind.QUOTE,
        EntryKind.FOLLOW,
        EntryKind.LIKE,
        EntryKind.REPOST,
        EntryKind.DM,
        EntryKind.POST,
    }
)
#: Inbound kinds that ask for an answer: the inbox's questions. Likes, reposts and
#: follows are reactions, which the inbox shows only on request.
QUESTION_KINDS = (EntryKind.MENTION, EntryKind.REPLY, EntryKind.QUOTE, EntryKind.DM)
REACTION_KINDS = (EntryKind.LIKE, EntryKind.REPOST, EntryKind.FOLLOW)
#: Items that can be answered in public (a reply in their thread).
PUBLICLY_ANSWERABLE = frozenset({EntryKind.MENTION, EntryKind.REPLY, EntryKind.QUOTE})


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")
    INTERNAL = "internal", _("Internal")


class Intent(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    QUESTION = "question", _("Question")
    PRAISE = "praise", _("Praise")
    OTHER = "other", _("Other")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
