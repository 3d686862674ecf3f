"""``python manage.py sync_account ACCOUNT_ID``: one sync in the foreground."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from crm.models import SocialAccount
from crm.networks.base import NetworkError
from crm.sync import DEFAULT_MAX_PAGES, SyncBusy, sync_account_run


class Command(BaseCommand):
    help = "Sync one social account now, with a progress bar; exits non-zero on failure."

    def add_arguments(self, parser):
        parser.add_argument("account_id", type=int)
        parser.add_argument(
            "--max-pages", type=int, default=DEFAULT_MAX_PAGES * 10, help="pages at most"
        )

    def handle(self, *args, account_id: int, max_pages: int, **options):
        bar = tqdm(total=max_pages, unit="page", file=self.stderr._out, leave=False)

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
        self.stdout.write(
            f"{result.pages} page(s), {result.created} new item(s), {result.failed} failed"
            + (" (more to fetch)" if result.more else "")
        )
