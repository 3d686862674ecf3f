"""CSV import of contacts: column mapping, preview, per-row errors, in batches run by a
Celery task (``contacts.tasks.contact_import_run``). Rows match existing contacts by
email, then by network + handle; matched contacts get the non-empty mapped values."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

import charset_normalizer
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import Contact, ContactAudit, ContactImport, SocialIdentity, Tag, Tombstone
from core.choices import Network

from .contacts import contact_create, contact_update

BATCH = 200
MAX_BYTES = 5 * 1024 * 1024
IMPORT_FIELDS = {
    "display_name": gettext_lazy("Name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "company": gettext_lazy("Company"),
    "language": gettext_lazy("Language"),
    "tags": gettext_lazy("Tags (separated by ;)"),
    "owner": gettext_lazy("Owner (username)"),
    "network": gettext_lazy("Network"),
    "handle": gettext_lazy("Handle"),
}
_GUESS = {
    "name": "display_name",
    "full name": "display_name",
    "nombre": "display_name",
    "e-mail": "email",
    "correo": "email",
    "telefono": "phone",
    "teléfono": "phone",
    "empresa": "company",
    "idioma": "language",
    "etiquetas": "tags",
    "red": "network",
    "usuario": "handle",
    "username": "handle",
}


class RowForm(forms.Form):
    display_name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=50, required=False)
    company = forms.CharField(max_length=200, required=False)
    language = forms.CharField(max_length=8, required=False)
    tags = forms.CharField(required=False)
    owner = forms.CharField(required=False)
    network = forms.ChoiceField(choices=[("", "")] + list(Network.choices), required=False)
    handle = forms.CharField(max_length=255, required=False)

    def clean_owner(self):
        username = self.cleaned_data["owner"].strip()
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise ValidationError(_("No user called %(name)s.") % {"name": username})
        return user

    def clean_handle(self):
        return self.cleaned_data["handle"].strip().lstrip("@")

    def clean(self):
        data = super().clean()
        if bool(data.get("network")) != bool(data.get("handle")):
            raise ValidationError(_("A handle needs its network, and a network a handle."))
        if not (data.get("display_name") or data.get("email") or data.get("handle")):
            raise ValidationError(_("A row needs at least a name, an email or a handle."))
        return data


@dataclass
class ImportPreview:
    headers: list[str]
    rows: list[list[str]]
    mapping: dict[str, str]
    total: int


def _reader(content: str) -> csv.reader:
    sample = content[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="": the csv module's own line handling, so a bare CR (an old Mac or a
    # hand-edited file) ends a row instead of raising "new-line character seen in
    # unquoted field".
    return csv.reader(io.StringIO(content, newline=""), dialect)


#: Byte-order marks, longest first (UTF-32's starts with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Among encodings that read a file equally well, the spreadsheet default of the
#: languages Momento ships (Excel's "CSV" in English and Spanish).
_PREFERRED = "cp1252"


def _detect_encoding(raw: bytes) -> str | None:
    """The file's encoding: its byte-order mark, else UTF-8 if it decodes, else the
    best guess of charset-normalizer (Windows-1252 among equally good guesses)."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return encoding
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    matches = list(charset_normalizer.from_bytes(raw))
    if not matches:
        return None
    least_chaos = min(m.chaos for m in matches)
    tied = [m.encoding for m in matches if m.chaos == least_chaos]
    return _PREFERRED if _PREFERRED in tied else tied[0]


def csv_decode(raw: bytes) -> str:
    """The text of an uploaded CSV file, whatever spreadsheet saved it (UTF-8 with or
    without a BOM, UTF-16 "Unicode text", Windows-1252/Latin-1, …). Raises
    ``ValidationError`` with a message for the user when it is not text."""
    if len(raw) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 5 MB."))
    encoding = _detect_encoding(raw)
    try:
        content = raw.decode(encoding) if encoding else None
    except (UnicodeDecodeError, LookupError):
        content = None
    if content is None:
        raise ValidationError(
            _(
                "Momento cannot read this file's text encoding: save it as “CSV UTF-8” and try again."
            )
        )
    if "\x00" in content:
        raise ValidationError(
            _(
                "The file holds NUL characters, so it is not a CSV text file: save it as “CSV UTF-8” and try again."
            )
        )
    return content


def _unreadable(reader) -> str:
    return _("The file cannot be read as CSV near line %(line)s.") % {"line": reader.line_num}


def import_preview(content: str, *, rows: int = 5) -> ImportPreview:
    """The header, the first ``rows`` rows, a guessed mapping and the row count."""
    reader = _reader(content)
    try:
        headers = [h.strip() for h in next(reader)]
        sample, total = [], 0
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            total += 1
            if len(sample) < rows:
                sample.append(row)
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    except csv.Error:
        raise ValidationError(_unreadable(reader)) from None
    mapping = {}
    for header in headers:
        key = header.lower().strip()
        guess = _GUESS.get(key, key.replace(" ", "_"))
        mapping[header] = guess if guess in IMPORT_FIELDS else ""
    return ImportPreview(headers=headers, rows=sample, mapping=mapping, total=total)


def contact_import_draft(*, actor: AbstractBaseUser, filename: str, content: str) -> ContactImport:
    """Store an uploaded file with a guessed mapping, waiting for the user to confirm."""
    preview = import_preview(content)
    return ContactImport.objects.create(
        created_by=actor,
        filename=filename.replace("\x00", "")[:255],
        content=content,
        mapping=preview.mapping,
        total_rows=preview.total,
        state=ContactImport.State.DRAFT,
    )


@transaction.atomic
def contact_import_start(*, job: ContactImport, mapping: dict[str, str]) -> ContactImport:
    """Check ``mapping`` (CSV column → contact field) and queue the import after commit."""
    from contacts.tasks import contact_import_run

    job = ContactImport.objects.select_for_update().get(pk=job.pk)
    if job.state != ContactImport.State.DRAFT:
        raise ValidationError({"mapping": _("This import has already started.")})
    headers = import_preview(job.content).headers
    mapping = {h: v for h, v in mapping.items() if v}
    if set(mapping.values()) - set(IMPORT_FIELDS) or set(mapping) - set(headers):
        raise ValidationError({"mapping": _("The mapping names unknown columns or fields.")})
    used = list(mapping.values())
    if len(used) != len(set(used)):
        raise ValidationError({"mapping": _("Each field can take only one column.")})
    if not {"display_name", "email", "handle"} & set(used):
        raise ValidationError({"mapping": _("Map at least a name, an email or a handle column.")})
    job.mapping = mapping
    job.state = ContactImport.State.PENDING
    job.save(update_fields=["mapping", "state"])
    transaction.on_commit(lambda: contact_import_run.delay(job.pk))
    return job


def _match(data: dict) -> Contact | None:
    if data.get("email"):
        found = (
            Contact.objects.alias(e=Lower("email"))
            .filter(e=data["email"].lower())
            .order_by("pk")
            .first()
        )
        if found:
            return found
    if data.get("handle"):
        identity = (
            SocialIdentity.objects.filter(network=data["network"], handle__iexact=data["handle"])
            .select_related("contact")
            .order_by("pk")
            .first()
        )
        if identity:
            return identity.contact
    return None


def _erased(data: dict) -> bool:
    """Whether the row is a person who was erased (GDPR): her handle on that network
    or her email has a tombstone. Such rows are skipped, never imported again."""
    handle, email = data.get("handle"), data.get("email")
    if handle and Tombstone.matching(data.get("network") or "", {"handle": [handle]})["handle"]:
        return True
    return bool(email and Tombstone.matching("", {"email": [email]})["email"])


def _import_row(data: dict, actor: AbstractBaseUser | None) -> str:
    tags = [
        Tag.objects.get_or_create(name=name.strip()[:64])[0]
        for name in data.pop("tags", "").replace(",", ";").split(";")
        if name.strip()
    ]
    network, handle = data.pop("network", ""), data.pop("handle", "")
    fields = {k: v for k, v in data.items() if v not in ("", None)}
    contact = _match({**fields, "network": network, "handle": handle})
    if contact is None:
        fields.setdefault("display_name", handle or fields.get("email", "").split("@")[0])
        identities = (
            [{"network": network, "handle": handle, "external_id": f"handle:{handle.lower()}"}]
            if handle
            else []
        )
        contact_create(
            actor=actor, fields=fields, tags=tags, identities=identities, note=_("CSV import")
        )
        return "created"
    all_tags = {t.pk: t for t in [*contact.tags.all(), *tags]}.values() if tags else None
    contact_update(
        contact=contact,
        actor=actor,
        fields=fields,
        tags=all_tags,
        action=ContactAudit.Action.IMPORT,
        note=_("CSV import"),
    )
    if handle and not contact.identities.filter(network=network, handle__iexact=handle).exists():
        SocialIdentity.objects.get_or_create(
            network=network,
            external_id=f"handle:{handle.lower()}",
            defaults={"contact": contact, "handle": handle},
        )
    return "updated"


def contact_import_step(*, import_id: int, batch: int = BATCH) -> tuple[bool, str | None]:
    """Import the next ``batch`` rows; returns (more to do, state). Each row is its own
    savepoint: a bad row is reported with its errors and the others go in. The CSV text
    is dropped when the import finishes (it holds personal data)."""
    with transaction.atomic():
        job = ContactImport.objects.select_for_update().filter(pk=import_id).first()
        if job is None or job.state not in (
            ContactImport.State.PENDING,
            ContactImport.State.RUNNING,
        ):
            return False, job and job.state
        reader = _reader(job.content)
        headers = [h.strip() for h in next(reader)]
        done = 0
        position = 0
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            position += 1
            if position <= job.processed_rows:
                continue
            if done >= batch:
                break
            done += 1
            values = {}
            for header, cell in zip(headers, row, strict=False):
                if job.mapping.get(header):
                    values[job.mapping[header]] = cell.strip()
            form = RowForm(values)
            line = reader.line_num  # as a spreadsheet numbers it: the header is line 1
            if not form.is_valid():
                job.errors.append({"row": line, "errors": form.errors.get_json_data()})
                continue
            data = {k: v for k, v in form.cleaned_data.items() if k in values}
            if _erased(data):
                job.skipped_erased_count += 1
                continue
            try:
                with transaction.atomic():
                    outcome = _import_row(data, job.created_by)
            except ValidationError as exc:
                job.errors.append(
                    {"row": line, "errors": {"__all__": [{"message": m} for m in exc.messages]}}
                )
                continue
            if outcome == "created":
                job.created_count += 1
            else:
                job.updated_count += 1
        job.processed_rows += done
        more = job.processed_rows < job.total_rows and done > 0
        job.state = ContactImport.State.RUNNING if more else ContactImport.State.DONE
        if not more:
            job.finished_at = timezone.now()
            job.content = ""
        job.save()
        return more, job.state
