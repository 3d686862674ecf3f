"""Full-text search on PostgreSQL (nothing on SQLite, where search uses icontains).

- contacts_contact.search_document: name, company, email and every identity's handle and
  display name as one tsvector ('simple' without accents for exact words and handle
  parts, plus English and Spanish stems of names and companies), kept current by triggers on contacts and
  identities, with a GIN index.
- crm_timelineentry.text: a GIN expression index on simple || english || spanish
  vectors, so "contacts who wrote X" is an index scan joined to contacts. The expression
  must match contacts.search.TIMELINE_VECTOR_SQL exactly.
"""

from django.db import migrations

FORWARD = [
    r"""
CREATE OR REPLACE FUNCTION contacts_unaccent(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT translate(t, 'áàâäãéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇ',
                      'aaaaaeeeeiiiiooooouuuuncAAAAAEEEEIIIIOOOOOUUUUNC')
$$
""",
    r"""
CREATE OR REPLACE FUNCTION contacts_document(p_id bigint, p_name text, p_email text, p_company text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
  WITH ids AS (
    SELECT coalesce(p_email, '') || ' ' || coalesce(
      (SELECT string_agg(handle || ' ' || display_name, ' ')
         FROM contacts_socialidentity WHERE contact_id = p_id), '') AS text
  ), words AS (
    SELECT coalesce(p_name, '') || ' ' || coalesce(p_company, '') AS text
  )
  SELECT setweight(to_tsvector('simple'::regconfig, contacts_unaccent(
           words.text || ' ' || ids.text || ' ' || replace(ids.text, '@', ' ') || ' '
           || regexp_replace(ids.text, '[@._+:-]+', ' ', 'g'))), 'A')
      || to_tsvector('english'::regconfig, words.text)
      || to_tsvector('spanish'::regconfig, words.text)
  FROM ids, words
$$
""",
    r"""
CREATE OR REPLACE FUNCTION contacts_contact_document_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_document := contacts_document(NEW.id, NEW.display_name, NEW.email, NEW.company);
  RETURN NEW;
END
$$
""",
    """
CREATE TRIGGER contacts_contact_document
BEFORE INSERT OR UPDATE OF display_name, email, company ON contacts_contact
FOR EACH ROW EXECUTE FUNCTION contacts_contact_document_trg()
""",
    r"""
CREATE OR REPLACE FUNCTION contacts_identity_document_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE contacts_contact c
     SET search_document = contacts_document(c.id, c.display_name, c.email, c.company)
   WHERE c.id IN (CASE WHEN TG_OP <> 'DELETE' THEN NEW.contact_id END,
                  CASE WHEN TG_OP <> 'INSERT' THEN OLD.contact_id END);
  RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER contacts_identity_document
AFTER INSERT OR DELETE OR UPDATE OF handle, display_name, contact_id ON contacts_socialidentity
FOR EACH ROW EXECUTE FUNCTION contacts_identity_document_trg()
""",
    "CREATE INDEX contact_search ON contacts_contact USING gin (search_document)",
    """
CREATE INDEX timeline_text_search ON crm_timelineentry USING gin ((
  to_tsvector('simple'::regconfig, contacts_unaccent(text))
  || to_tsvector('english'::regconfig, text)
  || to_tsvector('spanish'::regconfig, text)))
""",
    """
UPDATE contacts_contact
   SET search_document = contacts_document(id, display_name, email, company)
""",
]

BACKWARD = [
    "DROP INDEX IF EXISTS timeline_text_search",
    "DROP INDEX IF EXISTS contact_search",
    "DROP TRIGGER IF EXISTS contacts_identity_document ON contacts_socialidentity",
    "DROP FUNCTION IF EXISTS contacts_identity_document_trg()",
    "DROP TRIGGER IF EXISTS contacts_contact_document ON contacts_contact",
    "DROP FUNCTION IF EXISTS contacts_contact_document_trg()",
    "DROP FUNCTION IF EXISTS contacts_document(bigint, text, text, text)",
    "DROP FUNCTION IF EXISTS contacts_unaccent(text)",
    "UPDATE contacts_contact SET search_document = NULL",
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
    dependencies = [
        ("contacts", "0002_tasks_purchases_rules_audit_search"),
        ("crm", "0001_social_accounts_timeline_notifications"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
