import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Contact, ContactAudit, ContactImport, SocialIdentity
from contacts.services import contact_import_draft, contact_import_start, contact_import_step
from tests.conftest import api_as
from tests.factories import ContactFactory, SocialIdentityFactory

pytestmark = pytest.mark.django_db

CSV = """Nombre;Correo;Red;Usuario;Etiquetas;Empresa
Lucía Pérez;lucia@example.com;bluesky;lucia.bsky.social;vip;Panadería
Known By Email;KNOWN@example.com;;;fibra;Acme
Known By Handle;;x;@known_handle;;
Bad Email;not-an-email;;;;
;;;;;
Half Identity;;x;;;
Nobody;;;;;
New Person;new@example.com;myspace;new;;
"""


def run(job):
    while contact_import_step(import_id=job.pk, batch=3)[0]:
        pass
    job.refresh_from_db()
    return job


def test_import_creates_matches_and_reports_row_errors(sales, django_capture_on_commit_callbacks):
    known = ContactFactory(display_name="Known", email="known@example.com", company="")
    by_handle = ContactFactory(display_name="Handle Person")
    SocialIdentityFactory(contact=by_handle, network="x", handle="Known_Handle")

    job = contact_import_draft(actor=sales, filename="people.csv", content=CSV)
    assert job.state == "draft" and job.total_rows == 7  # the blank row is skipped
    assert job.mapping == {
        "Nombre": "display_name",
        "Correo": "email",
        "Red": "network",
        "Usuario": "handle",
        "Etiquetas": "tags",
        "Empresa": "company",
    }
    with django_capture_on_commit_callbacks(execute=True):
        contact_import_start(job=job, mapping=job.mapping)  # the (eager) task runs it all
    job.refresh_from_db()

    assert job.state == "done" and job.processed_rows == 7 and job.content == ""
    assert (job.created_count, job.updated_count) == (2, 2)
    errors = {e["row"]: e["errors"] for e in job.errors}
    assert set(errors) == {5, 7, 9}  # spreadsheet line numbers (the header is 1)
    assert errors[5]["email"][0]["message"] == "Enter a valid email address."
    assert "A handle needs its network" in errors[7]["__all__"][0]["message"]
    assert "network" in errors[9]
    lucia = Contact.objects.get(email="lucia@example.com")
    assert lucia.display_name == "Lucía Pérez" and lucia.company == "Panadería"
    assert list(lucia.tags.values_list("name", flat=True)) == ["vip"]
    assert lucia.identities.get().handle == "lucia.bsky.social"
    known.refresh_from_db()
    assert (known.display_name, known.company) == ("Known By Email", "Acme")
    assert list(known.tags.values_list("name", flat=True)) == ["fibra"]
    audit = ContactAudit.objects.get(contact=known, action="import")
    assert audit.changes["company"] == ["", "Acme"] and audit.actor == sales
    assert Contact.objects.filter(pk=by_handle.pk, display_name="Known By Handle").exists()
    assert SocialIdentity.objects.filter(contact=by_handle).count() == 1


def test_import_resumes_in_batches_and_is_idempotent(sales):
    rows = "\n".join(f"Person {i},p{i}@example.com" for i in range(7))
    job = contact_import_draft(actor=sales, filename="a.csv", content="name,email\n" + rows)
    job.state = ContactImport.State.PENDING
    job.save()
    assert contact_import_step(import_id=job.pk, batch=3) == (True, "running")
    job.refresh_from_db()
    assert (job.processed_rows, job.percent) == (3, 42)
    job = run(job)
    assert job.created_count == 7 and Contact.objects.count() == 7
    assert contact_import_step(import_id=job.pk) == (False, "done")
    assert Contact.objects.count() == 7


def test_bad_mappings_are_refused(sales):
    job = contact_import_draft(actor=sales, filename="a.csv", content="a,b\n1,2\n")
    from django.core.exceptions import ValidationError

    for mapping in ({"a": "phone"}, {"a": "email", "b": "email"}, {"zzz": "email"}, {"a": "x"}):
        with pytest.raises(ValidationError):
            contact_import_start(job=job, mapping=mapping)


def test_import_through_the_ui(client, sales, django_capture_on_commit_callbacks):
    client.force_login(sales)
    upload = SimpleUploadedFile("people.csv", b"name,email\nAna,ana@example.com\nBad,nope\n")
    response = client.post("/contacts/import/", {"file": upload})
    job = ContactImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/contacts/import/{job.pk}/"
    preview = client.get(f"/contacts/import/{job.pk}/").content.decode()
    assert "ana@example.com" in preview and 'name="col_0"' in preview
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/contacts/import/{job.pk}/", {"col_0": "display_name", "col_1": "email"})
    page = client.get(f"/contacts/import/{job.pk}/").content.decode()
    assert "<progress" in page and "1 created, 0 updated, 1 with errors." in page
    assert "Enter a valid email address." in page
    assert client.get("/contacts/import/", HTTP_HX_REQUEST="true").status_code == 200


def test_import_api(sales, support, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("p.csv", b"Full name,E-mail\nZoe,zoe@example.com\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(sales).post(
            "/api/v1/contact-imports/", {"file": upload}, format="multipart"
        )
    assert response.status_code == 202, response.content
    body = api_as(sales).get(f"/api/v1/contact-imports/{response.json()['id']}/").json()
    assert (body["state"], body["created_count"]) == ("done", 1)
    assert Contact.objects.get().display_name == "Zoe"
    bad = api_as(sales).post(
        "/api/v1/contact-imports/",
        {"file": SimpleUploadedFile("p.csv", b"x,y\n1,2\n")},
        format="multipart",
    )
    assert bad.status_code == 400 and "mapping" in bad.json()
    empty = SimpleUploadedFile("p.csv", b"")
    assert api_as(sales).post("/api/v1/contact-imports/", {"file": empty}).status_code == 400
    # Support reads contacts but does not import them; each user sees their own imports.
    assert api_as(support).get("/api/v1/contact-imports/").json()["results"] == []
    assert api_as(support).post("/api/v1/contact-imports/", {"file": upload}).status_code == 403


# -- files as spreadsheets save them, and files that are no CSV at all ---------------------

PEOPLE = "Nombre;Correo;Empresa\r\nJosé Núñez;jose@example.com;Peñón S.L.\r\nZoë;zoe@example.com;Café “Bueno”\r\n"

#: (file bytes, the names it must import as) — each once a 500 or a mangled name.
READABLE = {
    "utf-8": (PEOPLE.encode("utf-8"), ["José Núñez", "Zoë"]),
    "utf-8 with BOM": (PEOPLE.encode("utf-8-sig"), ["José Núñez", "Zoë"]),
    "utf-16 with BOM (Excel's Unicode text)": (
        PEOPLE.replace(";", "\t").encode("utf-16"),
        ["José Núñez", "Zoë"],
    ),
    "utf-16-le without BOM": (PEOPLE.replace(";", "\t").encode("utf-16-le"), ["José Núñez", "Zoë"]),
    "windows-1252": (PEOPLE.encode("cp1252"), ["José Núñez", "Zoë"]),
    "latin-1": (
        PEOPLE.replace("“", '"').replace("”", '"').encode("latin-1"),
        ["José Núñez", "Zoë"],
    ),
    "bare CR line ends": (PEOPLE.replace("\r\n", "\r").encode("utf-8"), ["José Núñez", "Zoë"]),
    "a bare CR inside a row": (
        b"name,email\nAna\rBeth,ana@example.com\nCarl,carl@example.com\n",
        ["Ana", "Beth", "Carl"],
    ),
}
#: (file bytes, a word of the message the user reads).
REFUSED = {
    "NUL bytes": (b"name,email\nAn\x00a,ana@example.com\n", "NUL"),
    "a binary file": (bytes(range(256)) * 8, "CSV"),
    "a field past the csv module's limit": (
        b'name,email\n"' + b"a" * 200_000 + b'",x@example.com\n',
        "line",
    ),
    "empty": (b"", "empty"),
}


@pytest.mark.parametrize("case", READABLE, ids=list(READABLE))
def test_spreadsheet_encodings_import_through_the_api(
    sales, django_capture_on_commit_callbacks, case
):
    raw, names = READABLE[case]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(sales).post(
            "/api/v1/contact-imports/",
            {"file": SimpleUploadedFile("people.csv", raw)},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    job = ContactImport.objects.get()
    assert job.state == "done" and job.errors == [], job.errors
    assert sorted(Contact.objects.values_list("display_name", flat=True)) == sorted(names)


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_files_that_are_no_csv_are_refused_with_a_message(client, sales, case):
    raw, word = REFUSED[case]
    response = api_as(sales).post(
        "/api/v1/contact-imports/", {"file": SimpleUploadedFile("p.csv", raw)}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert word in " ".join(response.json()["file"])
    client.force_login(sales)
    page = client.post("/contacts/import/", {"file": SimpleUploadedFile("p.csv", raw)})
    assert page.status_code == 200 and word in page.content.decode()
    assert ContactImport.objects.count() == 0 and Contact.objects.count() == 0


def test_a_utf16_file_imports_through_the_ui(client, sales, django_capture_on_commit_callbacks):
    client.force_login(sales)
    raw = READABLE["utf-16 with BOM (Excel's Unicode text)"][0]
    response = client.post("/contacts/import/", {"file": SimpleUploadedFile("p.txt", raw)})
    job = ContactImport.objects.get()
    assert response.status_code == 302
    preview = client.get(f"/contacts/import/{job.pk}/").content.decode()
    assert "José Núñez" in preview
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/contacts/import/{job.pk}/", {"col_0": "display_name", "col_1": "email"})
    assert Contact.objects.get(email="jose@example.com").display_name == "José Núñez"


def test_a_nul_in_the_file_name_is_dropped(sales):
    job = contact_import_draft(actor=sales, filename="a\x00b.csv", content="name\nAna\n")
    assert job.filename == "ab.csv"
