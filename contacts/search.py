"""Contact search: PostgreSQL full-text search, or ``icontains`` on other databases.

On PostgreSQL a contact matches when every word typed (as a prefix, so "carm" finds
"Carmen", and without accents, so "lucia" finds "Lucía") is in its search document (name, company, email, handles; migration 0003) or
in the text of one of its timeline entries (a GIN expression index on
``crm_timelineentry.text``). Each word is tried as written ('simple') and stemmed in
English and Spanish, so "comprando" finds "comprar" and "routers" finds "router".
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import BooleanField, Func, Q, QuerySet

from crm.models import TimelineEntry

CONFIGS = ("simple", "english", "spanish")
_WORD = re.compile(r"[\w@.+-]+", re.UNICODE)


def tsquery_text(text: str) -> str:
    """``'w1':* & 'w2':*`` for the words in ``text``; '' when there are none. Only word
    characters and ``@ . + -`` survive, so the result is always valid tsquery input."""
    words = [w.strip("@.+-") for w in _WORD.findall(text)]
    return " & ".join(f"'{w}':*" for w in words if w)


class TextMatch(Func):
    """``<vector> @@ <prefix query in every config>`` as a boolean usable in ``filter()``.
    With ``vectorize`` the expression is text and is turned into the same vector the
    timeline's GIN index holds (the SQL must match migration 0003 exactly)."""

    output_field = BooleanField()

    def __init__(self, expression, query: str, *, vectorize: bool = False):
        super().__init__(expression)
        self.query = query
        self.vectorize = vectorize

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if self.vectorize:
            sql = " || ".join(f"to_tsvector('{c}'::regconfig, {_arg(c, sql)})" for c in CONFIGS)
            params = list(params) * len(CONFIGS)
        query = " || ".join(f"to_tsquery('{c}'::regconfig, {_arg(c, '%s')})" for c in CONFIGS)
        return f"({sql}) @@ ({query})", [*params, *[self.query] * len(CONFIGS)]


def _arg(config: str, sql: str) -> str:
    # The 'simple' vector is built from unaccented text ("lucia" finds "Lucía").
    return f"contacts_unaccent({sql})" if config == "simple" else sql


def timeline_matching(text: str) -> QuerySet[TimelineEntry]:
    """Timeline entries whose text matches ``text`` (PostgreSQL: through the GIN index)."""
    if settings.IS_POSTGRES:
        query = tsquery_text(text)
        return TimelineEntry.objects.filter(TextMatch("text", query, vectorize=True))
    return TimelineEntry.objects.filter(text__icontains=text.strip())


def contact_search(queryset: QuerySet, text: str) -> QuerySet:
    """Contacts whose name, company, email, any handle, or any timeline text matches."""
    from .models import Contact, SocialIdentity

    text = text.strip()
    if settings.IS_POSTGRES:
        query = tsquery_text(text)
        if not query:
            return queryset
        # Two GIN bitmap scans, unioned: contacts by document, contacts by what they wrote.
        own = Contact.objects.filter(TextMatch("search_document", query)).values("pk")
        wrote = timeline_matching(text).values("contact_id")
        return queryset.filter(pk__in=own.union(wrote))
    text = text.lstrip("@")
    if not text:
        return queryset
    handles = SocialIdentity.objects.filter(
        Q(handle__icontains=text) | Q(display_name__icontains=text)
    ).values("contact_id")
    return queryset.filter(
        Q(display_name__icontains=text)
        | Q(email__icontains=text)
        | Q(company__icontains=text)
        | Q(pk__in=handles)
        | Q(pk__in=timeline_matching(text).values("contact_id"))
    )
