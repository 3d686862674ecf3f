"""Search documents kept by set-based statements, never once per row (PostgreSQL only).

- ``contacts_timeline_append(entry_ids)``: appends the words of these timeline entries to
  their contacts' ``timeline_document``, locking the contacts in id order; the contacts
  are looked up by ``id = ANY(array)`` so the plan is an index scan whatever the size of
  the batch (a join against a transition table, which has no statistics, seq-scanned
  every contact).
- The timeline insert trigger calls it with the statement's new entries, except when the
  transaction said ``momento.search_deferred = on`` (ingest pages do, for the insert
  only: their follow-up calls the function itself).
- ``contacts_activity_append(entry_ids, skip_kinds)``: what a stored page's follow-up
  does to its contacts in ONE update of each row (each update of a contact rewrites its
  index entries, GIN ones included): ``last_interaction_at`` moves forward to the newest
  entry not of ``skip_kinds``, and the entries' words join ``timeline_document``.
- The contact row trigger stands aside under the same setting: ingest creates contacts
  and their identities in one statement, and the identity trigger computes the new
  contacts' documents once, after it.
- The identity trigger becomes three statement triggers with transition tables: one
  UPDATE of the contacts a statement touched, not one per identity.
"""

from django.db import migrations

FORWARD = [
    r"""
CREATE OR REPLACE FUNCTION contacts_timeline_append(entry_ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  done integer;
BEGIN
  ids := ARRAY(SELECT DISTINCT contact_id FROM crm_timelineentry
                WHERE id = ANY(entry_ids) AND text <> '' AND contact_id IS NOT NULL
                ORDER BY 1);
  IF cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;
  -- Lock in id order so concurrent pages and follow-ups cannot deadlock on shared contacts.
  PERFORM 1 FROM contacts_contact WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
  UPDATE contacts_contact c
     SET timeline_document = coalesce(c.timeline_document, ''::tsvector) || n.doc
    FROM (SELECT contact_id, strip(contacts_text_vector(string_agg(text, ' '))) AS doc
            FROM crm_timelineentry
           WHERE id = ANY(entry_ids) AND text <> '' AND contact_id IS NOT NULL
           GROUP BY contact_id) n
   WHERE c.id = ANY(ids) AND c.id = n.contact_id
     AND NOT (tsvector_to_array(n.doc)
              <@ coalesce(tsvector_to_array(c.timeline_document), '{}'::text[]));
  GET DIAGNOSTICS done = ROW_COUNT;
  RETURN done;
END
$$
""",
    r"""
CREATE OR REPLACE FUNCTION contacts_activity_append(entry_ids bigint[], skip_kinds text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  done integer;
BEGIN
  ids := ARRAY(SELECT DISTINCT contact_id FROM crm_timelineentry
                WHERE id = ANY(entry_ids) AND contact_id IS NOT NULL ORDER BY 1);
  IF cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;
  PERFORM 1 FROM contacts_contact WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
  UPDATE contacts_contact c
     SET last_interaction_at = CASE
           WHEN n.newest IS NOT NULL
                AND (c.last_interaction_at IS NULL OR c.last_interaction_at < n.newest)
           THEN n.newest ELSE c.last_interaction_at END,
         timeline_document = CASE
           WHEN n.doc IS NOT NULL
                AND NOT (tsvector_to_array(n.doc)
                         <@ coalesce(tsvector_to_array(c.timeline_document), '{}'::text[]))
           THEN coalesce(c.timeline_document, ''::tsvector) || n.doc
           ELSE c.timeline_document END
    FROM (SELECT contact_id,
                 max(occurred_at) FILTER (WHERE NOT (kind = ANY(skip_kinds))) AS newest,
                 strip(contacts_text_vector(string_agg(text, ' ') FILTER (WHERE text <> '')))
                   AS doc
            FROM crm_timelineentry
           WHERE id = ANY(entry_ids) AND contact_id IS NOT NULL
           GROUP BY contact_id) n
   WHERE c.id = ANY(ids) AND c.id = n.contact_id
     AND ((n.newest IS NOT NULL
           AND (c.last_interaction_at IS NULL OR c.last_interaction_at < n.newest))
          OR (n.doc IS NOT NULL
              AND NOT (tsvector_to_array(n.doc)
                       <@ coalesce(tsvector_to_array(c.timeline_document), '{}'::text[]))));
  GET DIAGNOSTICS done = ROW_COUNT;
  RETURN done;
END
$$
""",
    r"""
CREATE OR REPLACE FUNCTION contacts_timeline_insert_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('momento.search_deferred', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  PERFORM contacts_timeline_append(ARRAY(SELECT id FROM new_entries WHERE text <> ''));
  RETURN NULL;
END
$$
""",
    r"""
CREATE OR REPLACE FUNCTION contacts_contact_document_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT'
     AND coalesce(current_setting('momento.search_deferred', true), '') = 'on' THEN
    RETURN NEW;
  END IF;
  NEW.search_document := contacts_document(NEW.id, NEW.display_name, NEW.email, NEW.company);
  RETURN NEW;
END
$$
""",
    "DROP TRIGGER IF EXISTS contacts_identity_document ON contacts_socialidentity",
    r"""
CREATE OR REPLACE FUNCTION contacts_identity_documents_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    ids := ARRAY(SELECT DISTINCT contact_id FROM new_identities ORDER BY 1);
  ELSIF TG_OP = 'DELETE' THEN
    ids := ARRAY(SELECT DISTINCT contact_id FROM old_identities ORDER BY 1);
  ELSE
    ids := ARRAY(
      SELECT DISTINCT x FROM (
        SELECT n.contact_id AS x FROM new_identities n JOIN old_identities o ON o.id = n.id
         WHERE (n.handle, n.display_name, n.contact_id)
               IS DISTINCT FROM (o.handle, o.display_name, o.contact_id)
        UNION
        SELECT o.contact_id FROM new_identities n JOIN old_identities o ON o.id = n.id
         WHERE n.contact_id IS DISTINCT FROM o.contact_id
      ) changed ORDER BY 1);
  END IF;
  IF cardinality(ids) > 0 THEN
    UPDATE contacts_contact c
       SET search_document = contacts_document(c.id, c.display_name, c.email, c.company)
     WHERE c.id = ANY(ids);
  END IF;
  RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER contacts_identity_documents_insert
AFTER INSERT ON contacts_socialidentity REFERENCING NEW TABLE AS new_identities
FOR EACH STATEMENT EXECUTE FUNCTION contacts_identity_documents_trg()
""",
    """
CREATE TRIGGER contacts_identity_documents_update
AFTER UPDATE ON contacts_socialidentity
REFERENCING NEW TABLE AS new_identities OLD TABLE AS old_identities
FOR EACH STATEMENT EXECUTE FUNCTION contacts_identity_documents_trg()
""",
    """
CREATE TRIGGER contacts_identity_documents_delete
AFTER DELETE ON contacts_socialidentity REFERENCING OLD TABLE AS old_identities
FOR EACH STATEMENT EXECUTE FUNCTION contacts_identity_documents_trg()
""",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS contacts_identity_documents_delete ON contacts_socialidentity",
    "DROP TRIGGER IF EXISTS contacts_identity_documents_update ON contacts_socialidentity",
    "DROP TRIGGER IF EXISTS contacts_identity_documents_insert ON contacts_socialidentity",
    "DROP FUNCTION IF EXISTS contacts_identity_documents_trg()",
    """
CREATE TRIGGER contacts_identity_document
AFTER INSERT OR DELETE OR UPDATE OF handle, display_name, contact_id ON contacts_socialidentity
FOR EACH ROW EXECUTE FUNCTION contacts_identity_document_trg()
""",
    r"""
CREATE OR REPLACE FUNCTION contacts_timeline_insert_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM contacts_contact
    WHERE id IN (SELECT contact_id FROM new_entries WHERE text <> '')
    ORDER BY id FOR UPDATE;
  UPDATE contacts_contact c
     SET timeline_document = coalesce(c.timeline_document, ''::tsvector) || n.doc
    FROM (SELECT contact_id, strip(contacts_text_vector(string_agg(text, ' '))) AS doc
            FROM new_entries WHERE text <> '' GROUP BY contact_id) n
   WHERE c.id = n.contact_id
     AND NOT (tsvector_to_array(n.doc)
              <@ coalesce(tsvector_to_array(c.timeline_document), '{}'::text[]));
  RETURN NULL;
END
$$
""",
    "DROP FUNCTION IF EXISTS contacts_activity_append(bigint[], text[])",
    "DROP FUNCTION IF EXISTS contacts_timeline_append(bigint[])",
    r"""
CREATE OR REPLACE FUNCTION contacts_contact_document_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_document := contacts_document(NEW.id, NEW.display_name, NEW.email, NEW.company);
  RETURN NEW;
END
$$
""",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0008_labelcorrection_label_confidence")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
