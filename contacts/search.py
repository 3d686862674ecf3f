"""Contact search: PostgreSQL full-text search, or elsewhere (SQLite) a ``contains`` on
the rows' stored folded copies (``core.fields.FoldedTextField``: accents and case
ignored; no stemming: "routers" does not find "router" there).

On PostgreSQL a contact matches when every word typed (as a prefix, so "carm" finds
"Carmen", and without accents, so "lucia" finds "Lucía") is in its profile document
(name, company, email, handles) or in its timeline document (every word of its
timeline), both kept current by triggers (contacts migration 0003) and GIN-indexed.
Each word is tried as written ('simple') and stemmed in English and Spanish, so
"comprar" finds "comprando" and "router" finds "routers".
"""

from __future__ import annotations

import math
import re

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Func, Q, QuerySet

from contacts.models import TimelineEntry
from lib.text import fold

CONFIGS = ("simple", "english", "spanish")
#: Search hands PostgreSQL the matching ids when there are at most this many, or
#: sqrt(WALK_COST * contacts) if more (see contact_search).
PROBE = 1000
#: Measured at 100,000 contacts: walking the list checks a row's documents in ~40 µs,
#: a GIN bitmap costs ~1 µs a match; a page needs 50 rows, so walking costs about
#: 2,000 µs * contacts / matches and fetching the ids 1 µs * matches.
WALK_COST = 2000
_WORD = re.compile(r"[\w@.+-]+", re.UNICODE)


def tsquery_text(text: str) -> str:
    """``'w1':* & 'w2':*`` for the words in ``text``; '' when there are none. Only word
    characters and ``@ . + -`` survive, so the result is always valid tsquery input."""
    words = [w.strip("@.+-") for w in _WORD.findall(text)]
    return " & ".join(f"'{w}':*" for w in words if w)


class TextMatch(Func):
    """``<tsvector column> @@ <prefix query in every config>``, a boolean for filter()."""

    output_field = BooleanField()

    def __init__(self, expression, query: str):
        super().__init__(expression)
        self.query = query

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        query = " || ".join(f"to_tsquery('{c}'::regconfig, {_arg(c)})" for c in CONFIGS)
        return f"({sql}) @@ ({query})", [*params, *[self.query] * len(CONFIGS)]


class IdIn(Func):
    """``<column> IN (unnest(<one array parameter>))``: thousands of ids in one
    parameter, where ``pk__in`` would send one parameter each."""

    output_field = BooleanField()

    def __init__(self, expression, ids: list[int]):
        super().__init__(expression)
        self.ids = list(ids)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        # unnest() tells the planner how many ids there are, so it looks each one up
        # rather than scanning the list order against an array.
        return f"{sql} IN (SELECT unnest(%s::bigint[]))", [*params, self.ids]


def _arg(config: str) -> str:
    # The 'simple' vectors are built from unaccented text ("lucia" finds "Lucía").
    return "contacts_unaccent(%s)" if config == "simple" else "%s"


def contact_search(queryset: QuerySet, text: str) -> QuerySet:
    """Contacts whose name, company, email, any handle, or any timeline text matches."""
    from .models import Contact, SocialIdentity

    text = text.strip()
    if settings.IS_POSTGRES:
        query = tsquery_text(text)
        if not query:
            return queryset
        match = Q(TextMatch("search_document", query)) | Q(TextMatch("timeline_document", query))
        # PostgreSQL cannot estimate how many rows a prefix query matches: it may walk
        # the whole list in order looking for a rare word, or bitmap-scan tens of
        # thousands of rows for a common one. Its statistics of the documents' commonest
        # words say which: a common word is found within the first rows of the list
        # order (PostgreSQL's walk); a rare one is probed through the GIN indexes and
        # becomes a short list of ids.
        matches, contacts = _estimated_matches(text)
        limit = max(PROBE, int(math.sqrt(WALK_COST * contacts)))
        if matches <= limit:
            ids = _probe(Contact.objects.filter(match).values_list("pk", flat=True)[: limit + 1])
            if len(ids) <= limit:
                return queryset.filter(IdIn("pk", ids))
        return queryset.filter(match)
    # Elsewhere (SQLite, the embedded default): a substring of the stored folded copies,
    # accents and case ignored on both sides ("lucia" finds "Lucía", "contrasena" finds
    # "contraseña"); stemming needs PostgreSQL. Each side scans one narrow index.
    text = fold(text.lstrip("@"))
    if not text:
        return queryset
    people = Contact.objects.filter(search_folded__isnull=False, search_folded__contains=text)
    handles = SocialIdentity.objects.filter(
        search_folded__isnull=False, search_folded__contains=text
    )
    wrote = TimelineEntry.objects.filter(text_folded__isnull=False, text_folded__contains=text)
    return queryset.filter(
        Q(pk__in=people.values("pk"))
        | Q(pk__in=handles.values("contact_id"))
        | Q(pk__in=wrote.values("contact_id"))
    )


_ESTIMATE_SQL = """
WITH words(w) AS (SELECT unnest(%s::text[])),
lexemes AS (
  SELECT w, unnest(tsvector_to_array(contacts_text_vector(w))) AS l FROM words
),
common AS (
  SELECT m.e, m.f
    FROM pg_stats s,
         unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS m(e, f)
   WHERE s.schemaname = current_schema() AND s.tablename = 'contacts_contact'
     AND s.attname IN ('search_document', 'timeline_document') AND m.e IS NOT NULL
),
per_word AS (
  SELECT w, coalesce(max(common.f), 0) AS f
    FROM lexemes LEFT JOIN common ON left(common.e, length(lexemes.l)) = lexemes.l
   GROUP BY w
)
SELECT coalesce(exp(sum(ln(greatest(f, 1e-9)))), 0), max(n.reltuples)
  FROM per_word,
       (SELECT greatest(reltuples, 0) AS reltuples FROM pg_class
         WHERE oid = 'contacts_contact'::regclass) n
"""


def _estimated_matches(text: str) -> tuple[float, float]:
    """(how many contacts the words of ``text`` match, how many contacts there are),
    from ``pg_stats``' most common lexemes of the two documents (0 when rare or not
    analysed yet) and the table's row estimate."""
    words = [w.strip("@.+-") for w in _WORD.findall(text)]
    with connection.cursor() as cursor:
        cursor.execute(_ESTIMATE_SQL, [[w for w in words if w]])
        share, contacts = cursor.fetchone()
    return float(share or 0) * float(contacts or 0), float(contacts or 0)


def _probe(queryset) -> list:
    """Run ``queryset`` through bitmap scans of the GIN indexes only: with a LIMIT and a
    bad row estimate, PostgreSQL would otherwise read every row's documents."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
        try:
            return list(queryset)
        finally:
            cursor.execute("RESET enable_seqscan; RESET enable_indexscan")


def timeline_documents_rebuild(*contact_ids: int) -> None:
    """Recompute the timeline documents of these contacts from their entries (after
    text was removed or entries moved); a no-op off PostgreSQL."""
    if settings.IS_POSTGRES and contact_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE contacts_contact SET timeline_document = contacts_timeline_document(id)"
                " WHERE id = ANY(%s)",
                [list(contact_ids)],
            )


def timeline_documents_merge(*, survivor_id: int, other_id: int) -> None:
    """Add ``other_id``'s timeline words to ``survivor_id``'s (cheaper than a rebuild)."""
    if settings.IS_POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE contacts_contact s SET timeline_document ="
                " coalesce(s.timeline_document, ''::tsvector)"
                " || coalesce(o.timeline_document, ''::tsvector)"
                " FROM contacts_contact o WHERE s.id = %s AND o.id = %s",
                [survivor_id, other_id],
            )
