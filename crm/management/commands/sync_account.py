"""``python manage.py sync_account ACCOUNT_ID``: one sync in the foreground."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from crm.models import SocialAccount, SyncStream
from crm.networks.base import NetworkError
from crm.selectors import syncstream_error_text, syncstream_label
from crm.sync import SyncBusy, sync_account_run


class Command(BaseCommand):
    help = (
        "Sync one social account now, with a progress bar; prints each stream's outcome "
        "and exits non-zero when a stream failed, naming it."
    )

    def add_arguments(self, parser):
        parser.add_argument("account_id", type=int)
        parser.add_argument("--max-pages", type=int, default=200, help="pages at most per stream")

    def handle(self, *args, account_id: int, max_pages: int, **options):
        bar = tqdm(unit="page", file=self.stderr._out, leave=False)

        def progress(stream, page, stats):
            bar.set_description(stream)
            bar.set_postfix(new=stats.created, failed=stats.failed)
            bar.update(1)

        try:
            result = sync_account_run(account_id=account_id, max_pages=max_pages, progress=progress)
        except SocialAccount.DoesNotExist:
            raise CommandError(f"No social account {account_id}.") from None
        except SyncBusy:
            raise CommandError(f"Account {account_id} is being synced right now.") from None
        except NetworkError as exc:
            raise CommandError(f"Sync failed: {exc}") from exc
        finally:
            bar.close()
        if result.skipped:
            raise CommandError(f"Account {account_id} is not synced: {result.skipped}.")
        rows = {s.name: s for s in SyncStream.objects.filter(account_id=account_id)}
        failed = []
        for name, outcome in result.outcomes.items():
            row = rows[name]
            if outcome.code and outcome.code != "waiting":
                failed.append(name)
                self.stdout.write(f"{name}: {_('failed')}: {syncstream_error_text(row)}")
            elif outcome.code == "waiting":
                self.stdout.write(f"{name}: {syncstream_error_text(row)}")
            else:
                self.stdout.write(
                    f"{name}: {outcome.pages} page(s), {outcome.created} new item(s)"
                    + (" (more to fetch)" if outcome.more or row.walking else "")
                )
        self.stdout.write(
            f"{result.pages} page(s), {result.created} new item(s), {result.failed} failed"
            + (" (more to fetch)" if result.more else "")
        )
        if failed:
            labels = ", ".join(f"{syncstream_label(n)} ({n})" for n in failed)
            raise CommandError(f"Stream(s) failed: {labels}")
