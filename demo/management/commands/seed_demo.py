"""Load the bilingual demo company. Idempotent: every row has a stable key, so a second
run adds nothing. What the demo names (its campaign, tags, the default team and stage
rules) is in ``--language`` (default ``MOMENTO_DEMO_LANGUAGE``, else ``LANGUAGE_CODE``);
its customers write in English and Spanish either way."""

from __future__ import annotations

import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone

from contacts.models import Contact, SocialIdentity, Stage, Tag, TimelineEntry
from contacts.services import contact_change_stage
from crm.models import SocialAccount
from demo import data as demo

DEMO_PASSWORD = "momento-demo"  # noqa: S105 — printed in the README, demo only
USERS = [
    ("manager", "Marta", "Manager", "Manager", True),
    ("ana", "Ana", "Sales", "Sales", False),
    ("bruno", "Bruno", "Sales", "Sales", False),
    ("sofia", "Sofía", "Support", "Support", False),
    ("diego", "Diego", "Support", "Support", False),
]
DEMO_HANDLES = ("momentofibra.bsky.social", "ana@mastodon.social", "bruno_momento")
NETWORK_BASE = {
    "bluesky": ("https://bsky.social", "https://bsky.app/profile/{handle}", "{handle}.bsky.social"),
    "mastodon": ("https://mastodon.social", "https://mastodon.social/@{handle}", "{handle}"),
    "x": ("https://api.x.com", "https://x.com/{handle}", "{handle}"),
}


class Command(BaseCommand):
    help = "Load believable bilingual demo data (users, accounts, ~200 contacts, ~2,000 entries)."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=200)
        parser.add_argument(
            "--language",
            default=settings.MOMENTO_DEMO_LANGUAGE,
            help="The language of the demo's names: "
            + ", ".join(code for code, _label in settings.LANGUAGES)
            + " (default: MOMENTO_DEMO_LANGUAGE, else LANGUAGE_CODE).",
        )
        parser.add_argument(
            "--demo-server-wait",
            type=float,
            default=3.0,
            help="Seconds to wait for the local demo Mastodon server (demo_mastodon).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even with DEBUG off (it creates staff users with known passwords).",
        )

    @transaction.atomic
    def handle(
        self,
        *args,
        contacts: int,
        language: str = "",
        force: bool = False,
        demo_server_wait: float = 3.0,
        **options,
    ):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates a staff manager and users with the README's known "
                "passwords; it refuses to run with DEBUG off. Use --force on a demo server "
                "only, and change those passwords."
            )
        language = language or settings.MOMENTO_DEMO_LANGUAGE
        if language not in demo.NAMES:
            raise CommandError(
                f"No demo in {language!r}: choose one of {', '.join(sorted(demo.NAMES))}."
            )
        names = demo.NAMES[language]
        rng = random.Random(20261123)
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        users = self._users()
        accounts = self._accounts(users, names)
        tags = [Tag.objects.get_or_create(name=n)[0] for n in names["tags"]]
        self._stage_rules(names)

        campaign = self._campaign(users, accounts, names)
        existing = set(
            SocialIdentity.objects.filter(external_id__startswith="demo-").values_list(
                "external_id", flat=True
            )
        )
        new_contacts = 0
        journeys = {}
        for n in range(contacts):
            p = demo.person(rng, n)
            network = ("bluesky", "mastodon", "x")[n % 3]
            handle_base = p["name"].lower().replace(" ", ".").encode(
                "ascii", "ignore"
            ).decode() + str(n)
            handle = NETWORK_BASE[network][2].format(handle=handle_base)
            external_id = f"demo-{network}-{n}"
            # The stage is drawn on its own (not from n, which also picks the
            # network), so each network's funnel has its own mix.
            roll = random.Random(f"stage-{n}").random()
            stage = 2 if roll < 0.15 else 1 if roll < 0.45 else 0
            entry_count = rng.randint(4, 16)
            if external_id in existing:
                continue
            contact = Contact.objects.create(
                display_name=p["name"],
                company=p["company"],
                language=p["lang"],
                email=f"{handle_base}@example.com" if stage else "",
                owner=users["ana"] if n % 2 else users["bruno"] if stage else None,
            )
            if rng.random() < 0.3:
                contact.tags.add(rng.choice(tags))
            identity = SocialIdentity.objects.create(
                contact=contact,
                network=network,
                external_id=external_id,
                handle=handle,
                display_name=p["name"],
                follower_count=int(rng.paretovariate(1.2) * 40),
                profile_url=NETWORK_BASE[network][1].format(handle=handle),
            )
            account = accounts[network]
            if n % 5 < 3:
                # Found by the demo campaign's listening while still a stranger.
                from campaigns.services import attribution_touch

                attribution_touch(
                    contact_ids=[contact.pk], campaign=campaign, via="listening", account=account
                )
            entries = []
            plan = demo.entry_plan(
                rng, p["lang"], stage, entry_count, now, accounts["bluesky"].handle
            )
            for k, (kind, direction, intent, text, when) in enumerate(plan):
                entries.append(
                    TimelineEntry(
                        contact=contact,
                        kind=kind,
                        network=network,
                        direction=direction,
                        external_id=f"demo-{network}-{n}-{k}",
                        text=text,
                        account=account,
                        identity=identity if direction == "in" else None,
                        created_by=users["sofia"] if direction == "out" else None,
                        occurred_at=when,
                        language=p["lang"] if text else "",
                        intent=intent if intent in demo.SENTIMENT else "",
                        sentiment=demo.SENTIMENT.get(intent, ""),
                        handled_at=when if direction == "in" and rng.random() < 0.7 else None,
                        raw={"demo": True},
                    )
                )
            TimelineEntry.objects.bulk_create(entries, ignore_conflicts=True)
            for target in range(1, stage + 1):
                contact_change_stage(
                    contact=contact,
                    stage=target,
                    rule="" if target == 2 else names["stage_rules"]["follow"],
                    actor=users["ana"] if target == 2 else None,
                    reason=names["bought"]
                    if target == 2
                    else names["followed"].format(handle=account.handle),
                )
            if plan:
                self._history_dates(rng, contact, stage, plan[0][4], now, names, users, journeys)
            new_contacts += 1

        self._journeys_save(journeys)

        # last_interaction_at from the timeline, in one statement.
        newest_social = (
            TimelineEntry.objects.filter(contact=OuterRef("pk"), network__gt="")
            .order_by()
            .values("contact")
            .annotate(m=Max("occurred_at"))
            .values("m")
        )
        Contact.objects.filter(
            last_interaction_at__isnull=True, identities__external_id__startswith="demo-"
        ).update(last_interaction_at=Subquery(newest_social))

        self._support(users, now, names)
        self._todos(users, now, names)
        self._follow_language(accounts, names)
        # Scores from the engagement just loaded (sync refreshes them after each page).
        from contacts.scoring import contacts_score_refresh

        contacts_score_refresh(contact_ids=Contact.objects.values_list("pk", flat=True))

        if settings.DEBUG:  # never a demo server with DEBUG off, --force or not
            self._demo_server(wait=demo_server_wait)

        total = Contact.objects.count()
        entries = TimelineEntry.objects.count()
        by_stage = dict(Contact.objects.values_list("stage").annotate(n=Count("id")).order_by())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {new_contacts} new contacts; {total} contacts "
                f"({', '.join(f'{Stage(s).label}: {c}' for s, c in sorted(by_stage.items()))}), "
                f"{entries} timeline entries. Log in as manager / ana / sofia with password {DEMO_PASSWORD!r}."
            )
        )

    def _history_dates(self, rng, contact, stage, first, now, names, users, journeys):
        """Plan the contact's journey: known and found by the campaign at its first
        message, a lead days later, a customer days after that (always before now),
        with its purchases on the day it became one and the month after. Written for
        all contacts at once by ``_journeys_save``."""
        from datetime import timedelta
        from decimal import Decimal

        from contacts.models import Purchase

        reached = {}
        at = first
        for target in range(1, stage + 1):
            left = (now - at).total_seconds()
            at = at + timedelta(seconds=left * rng.uniform(0.15, 0.6))
            reached[target] = at
        purchases = []
        if stage == 2:
            products = names["products"]
            purchases = [
                Purchase(
                    contact=contact,
                    product=products[i][0],
                    amount=Decimal(products[i][1]),
                    currency="EUR",
                    source="demo",
                    external_ref=f"demo-{contact.pk}-{i}",
                    purchased_at=min(reached[2] + timedelta(days=30 * i), now),
                    created_by=users["ana"],
                )
                for i in range(1 + (rng.random() < 0.4))
            ]
        journeys[contact.pk] = (first, reached, purchases)

    def _journeys_save(self, journeys):
        """The stage changes were recorded at load time: move them (and their timeline
        entries), the contacts' creation and the campaign's first sight back to the
        planned days, and store the purchases, in a few statements."""
        from campaigns.models import Attribution
        from contacts.models import Purchase, StageChange
        from core.choices import EntryKind

        if not journeys:
            return
        ids = list(journeys)
        # Known since its first message (the board's age of a discovered contact).
        Contact.objects.bulk_update(
            [Contact(pk=pk, created_at=first) for pk, (first, _r, _p) in journeys.items()],
            ["created_at"],
            batch_size=500,
        )
        attributions = list(Attribution.objects.filter(contact_id__in=ids).only("id", "contact"))
        for a in attributions:
            a.at = journeys[a.contact_id][0]
        Attribution.objects.bulk_update(attributions, ["at"], batch_size=500)
        changes = list(
            StageChange.objects.filter(contact_id__in=ids).only("id", "contact", "to_stage")
        )
        for c in changes:
            c.created_at = journeys[c.contact_id][1][c.to_stage]
        StageChange.objects.bulk_update(changes, ["created_at"], batch_size=500)
        events = list(
            TimelineEntry.objects.filter(contact_id__in=ids, kind=EntryKind.STAGE_CHANGE).only(
                "id", "contact", "raw"
            )
        )
        for e in events:
            e.occurred_at = journeys[e.contact_id][1][e.raw["to"]]
        TimelineEntry.objects.bulk_update(events, ["occurred_at"], batch_size=500)
        Purchase.objects.bulk_create(
            [p for _f, _r, purchases in journeys.values() for p in purchases],
            ignore_conflicts=True,
        )

    def _todos(self, users, now, names):
        """The sales demo user's tasks: two due today, one overdue, two later (once)."""
        from datetime import timedelta

        from contacts.models import Todo

        ana = users["ana"]
        if Todo.objects.filter(assignee=ana, created_by=users["manager"]).exists():
            return
        contacts = list(Contact.objects.filter(owner=ana).order_by("-stage", "id")[:5])
        now = timezone.now()
        local = timezone.localtime(now)
        left_today = local.replace(hour=23, minute=59, second=0, microsecond=0) - local
        dues = [
            now + left_today / 3,  # later today, whatever the hour
            now + left_today * 2 / 3,
            now - timedelta(days=2),
            now + timedelta(days=3),
            now + timedelta(days=8),
        ]
        Todo.objects.bulk_create(
            [
                Todo(
                    contact=contact,
                    title=title.format(name=contact.display_name),
                    due_at=due,
                    assignee=ana,
                    created_by=users["manager"],
                )
                for contact, title, due in zip(contacts, names["todos"], dues, strict=False)
            ]
        )

    def _follow_language(self, accounts, names):
        """The demo campaign's goal and the stage changes' reasons in ``--language``
        while they keep a default text of another language (as the team's name)."""
        from campaigns.models import Campaign
        from contacts.models import StageChange
        from core.choices import EntryKind

        others = [n for n in demo.NAMES.values() if n is not names]
        Campaign.objects.filter(
            name__in=[n["campaign"] for n in others], goal__in=[n["goal"] for n in others]
        ).update(name=names["campaign"], goal=names["goal"])
        renames = {n["bought"]: names["bought"] for n in others}
        for account in accounts.values():
            for n in others:
                renames[n["followed"].format(handle=account.handle)] = names["followed"].format(
                    handle=account.handle
                )
        for old, new in renames.items():
            StageChange.objects.filter(reason=old).update(reason=new)
            TimelineEntry.objects.filter(kind=EntryKind.STAGE_CHANGE, text=old).update(text=new)

    def _demo_server(self, *, wait: float) -> None:
        """Connect the demo brand Mastodon account to the local demo server (make run's
        ``demo`` process), so sync, answers, handoff DMs and CSAT links go to it."""
        from demo import server as demo_server

        state = demo_server.state_load()
        if state is None or not demo_server.wait_up(state["base_url"], seconds=wait):
            self.stdout.write(
                "The demo Mastodon server is not running: `make run` starts it and connects "
                "the demo brand account."
            )
            return
        try:
            account = demo_server.demo_brand_connect(state=state)
        except ValidationError as exc:
            self.stderr.write(f"Could not connect the demo brand account: {exc.messages}")
            return
        self.stdout.write(f"Demo brand account @{account.handle} connected to {account.base_url}.")

    def _users(self):
        User = get_user_model()
        users = {}
        for username, first, last, group, staff in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "is_staff": staff,
                    "email": f"{username}@momento.example",
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=group))
            users[username] = user
        return users

    def _support(self, users, now, names):
        """Support staff on the default team (named in the demo's language), its links
        for canned answers, and tickets for the last fortnight's DMs and customer
        complaints (the sync rules' own call)."""
        from datetime import timedelta

        from support.models import SupportAgent, Team, Ticket
        from support.services import tickets_open_for_entries

        team = Team.objects.filter(is_default=True).first()
        if team is None:
            return
        defaults = {n["team"] for n in demo.NAMES.values()}
        if (
            team.name in defaults
            and team.name != names["team"]
            and not Team.objects.filter(name=names["team"]).exists()
        ):
            team.name = names["team"]
            team.save(update_fields=["name"])
        if not team.phone:
            team.phone = "900 123 456"
            team.form_url = "https://momento.example/contact"
            team.help_url = "https://momento.example/help"
            team.save(update_fields=["phone", "form_url", "help_url"])
        for username in ("sofia", "diego"):
            SupportAgent.objects.get_or_create(user=users[username], defaults={"team": team})
        recent = TimelineEntry.objects.filter(
            external_id__startswith="demo-",
            direction="in",
            occurred_at__gte=now - timedelta(days=14),
            ticket_link__isnull=True,
        ).order_by("occurred_at")
        self._recent_messages(now - timedelta(days=14))
        opening = timezone.now()
        tickets_open_for_entries(entries=recent.select_related("contact"))
        opened = Ticket.objects.filter(
            pk__in=list(Ticket.objects.filter(created_at__gte=opening).values_list("pk", flat=True))
        )
        self._backdate(opened)
        answered = self._ticket_progress(list(opened.order_by("created_at", "pk")), opening)
        self._answers(answered, users["sofia"])

    def _recent_messages(self, since):
        """Three customers or leads quiet for the fortnight wrote a DM in the last hours
        (once), so the queue has tickets with time left, not only breached ones."""
        from datetime import timedelta

        from django.db.models import Exists

        if TimelineEntry.objects.filter(external_id__startswith="demo-recent-").exists():
            return
        spoke = TimelineEntry.objects.filter(
            contact=OuterRef("contact"), direction="in", occurred_at__gte=since
        )
        quiet = (
            SocialIdentity.objects.filter(
                external_id__startswith="demo-", contact__stage__gte=1, network__in=NETWORK_BASE
            )
            .exclude(Exists(spoke))
            .select_related("contact")
            .order_by("contact_id")
        )
        accounts = {a.network: a for a in SocialAccount.objects.filter(handle__in=DEMO_HANDLES)}
        moment = timezone.now()
        entries = []
        for k, (identity, ago) in enumerate(
            zip(
                quiet[:3],
                (timedelta(minutes=25), timedelta(hours=3), timedelta(hours=9)),
                strict=False,
            )
        ):
            contact = identity.contact
            texts = demo.TEXTS[contact.language or "en"]["dm"]
            entries.append(
                TimelineEntry(
                    contact=contact,
                    kind="dm",
                    network=identity.network,
                    direction="in",
                    external_id=f"demo-recent-{k}",
                    text=texts[k % len(texts)],
                    account=accounts.get(identity.network),
                    identity=identity,
                    occurred_at=moment - ago,
                    language=contact.language,
                    raw={"demo": True},
                )
            )
            Contact.objects.filter(pk=contact.pk).update(last_interaction_at=moment - ago)
        TimelineEntry.objects.bulk_create(entries, ignore_conflicts=True)

    def _ticket_progress(self, tickets, now):
        """Where the demo's tickets stand: the older ones answered and resolved (the
        support report's first-response and resolution medians have numbers), the ones
        of the last hours answered and open (hours left to resolve) or still new
        (minutes left), the rest unanswered past their target. Through the SLA clock's
        own helpers, so due times and business hours are the product's."""
        from datetime import timedelta

        from support.models.tickets import SlaEvent, Status
        from support.services.sla import save_clock, set_status, sla_plan, ticket_schedule

        rng = random.Random(len(tickets))
        resolved = len(tickets) * 2 // 5
        breaches = []
        done = []
        for i, ticket in enumerate(tickets):
            age = now - ticket.created_at
            if i < resolved:
                # The first one answered late, the second resolved late: the report's
                # attainment is not a flat 100 %.
                late = (80, 95) if i == 0 else (8, 55)
                answered = ticket.created_at + timedelta(minutes=rng.randint(*late))
                hours = (26, 40) if i == 1 else (1, 20)
                closed = min(answered + timedelta(hours=rng.uniform(*hours)), now)
                status = Status.RESOLVED
                for target, due, met in (
                    (SlaEvent.Target.FIRST_RESPONSE, ticket.first_response_due_at, answered),
                    (SlaEvent.Target.RESOLUTION, ticket.resolution_due_at, closed),
                ):
                    if due is not None and met > due:
                        breaches.append(
                            SlaEvent(
                                ticket=ticket,
                                target=target,
                                level=SlaEvent.Level.BREACH,
                                created_at=due,
                            )
                        )
            elif age > timedelta(hours=1):
                if age > timedelta(hours=12):
                    continue  # unanswered: breached
                answered = ticket.created_at + timedelta(minutes=rng.randint(10, 40))
                closed, status = None, Status.OPEN
            else:
                continue  # new, minutes left to answer
            schedule = ticket_schedule(ticket)
            done.append((ticket, answered))
            ticket.first_response_at = answered
            ticket.first_response_seconds = ticket.sla_elapsed(answered, schedule)
            sla_plan(ticket, schedule)
            set_status(ticket, status, now=closed or answered, schedule=schedule)
            save_clock(ticket, "status")
        SlaEvent.objects.bulk_create(breaches, ignore_conflicts=True)
        return done

    def _answers(self, answered, agent):
        """Each answered ticket's answer, sent when its first response was: an outbox
        message (sent, the ticket's reply) and the entry it became on the contact's
        timeline, after the message it answers, by DM when that was a DM; the ticket's
        messages handled then. So the inbox and the ticket page show the exchange that
        the support report counts."""
        from crm.models import OutboundMessage
        from support.models import TicketLink, TicketReply

        # Each ticket's first message, and the answers a run before already wrote: two
        # queries for all the tickets.
        firsts = {}
        for link in (
            TicketLink.objects.filter(ticket__in=[t for t, _at in answered])
            .select_related("entry__contact")
            .order_by("-entry__occurred_at")
        ):
            firsts[link.ticket_id] = link.entry
        written = set(
            OutboundMessage.objects.filter(idempotency_key__startswith="demo-answer-").values_list(
                "idempotency_key", flat=True
            )
        )
        for ticket, at in answered:
            key = f"demo-answer-{ticket.pk}"
            first = firsts.get(ticket.pk)
            if first is None or first.account_id is None or key in written:
                continue
            language = first.language or first.contact.language or "en"
            texts = demo.TEXTS.get(language, demo.TEXTS["en"])["reply_out"]
            kind = "dm" if first.kind == "dm" else "reply"
            text = texts["dm" if kind == "dm" else "complaint"][0]
            entry = TimelineEntry.objects.create(
                contact_id=first.contact_id,
                kind=kind,
                network=first.network,
                direction="out",
                external_id=key,
                text=text,
                account_id=first.account_id,
                in_reply_to=first.external_id,
                thread_id=first.thread_id,
                occurred_at=at,
                created_by=agent,
                language=language,
                raw={"demo": True},
            )
            message = OutboundMessage.objects.create(
                account_id=first.account_id,
                kind=kind,
                idempotency_key=key,
                contact_id=first.contact_id,
                in_reply_to=first,
                text=text,
                state=OutboundMessage.State.SENT,
                attempts=1,
                external_id=key,
                entry=entry,
                created_by=agent,
                sent_at=at,
            )
            TicketReply.objects.create(ticket=ticket, message=message, purpose="reply")
            TimelineEntry.objects.filter(
                ticket_link__ticket=ticket, direction="in", handled_at__isnull=True
            ).update(handled_at=at, handled_by=agent)

    def _backdate(self, tickets):
        """Each ticket just opened for a message of the last fortnight reads as opened
        when that message came (all its times move back by the same amount, its SLA
        targets included), so the support report's days show the fortnight."""
        from django.db.models import F, Min

        from support.models import Ticket, TicketLink

        times = [
            "created_at",
            "sla_running_since",
            "first_response_due_at",
            "resolution_due_at",
            "sla_next_check_at",
            "escalated_at",
            "first_response_at",
            "resolved_at",
        ]
        for ticket in tickets.annotate(first=Min("links__entry__occurred_at")):
            if ticket.first is None or ticket.first >= ticket.created_at:
                continue
            shift = ticket.first - ticket.created_at
            Ticket.objects.filter(pk=ticket.pk).update(**{f: F(f) + shift for f in times})
            TicketLink.objects.filter(ticket=ticket).update(created_at=F("created_at") + shift)
            TimelineEntry.objects.filter(kind="ticket", raw__ticket=ticket.pk).update(
                occurred_at=F("occurred_at") + shift
            )

    def _stage_rules(self, names):
        """The install's default stage rules, named in the demo's language while they
        keep a default name."""
        from contacts.models import StageRule

        for kind, name in names["stage_rules"].items():
            defaults = {n["stage_rules"][kind] for n in demo.NAMES.values()}
            if not StageRule.objects.filter(name=name).exists():
                StageRule.objects.filter(kind=kind, name__in=defaults).update(name=name)

    def _campaign(self, users, accounts, names):
        """The demo campaign (one, whichever language it was first seeded in)."""
        from campaigns.models import Campaign, ListeningRule

        campaign = Campaign.objects.filter(
            name__in=[n["campaign"] for n in demo.NAMES.values()]
        ).first()
        if campaign is None:
            campaign = Campaign.objects.create(
                name=names["campaign"], goal=names["goal"], owner=users["ana"]
            )
            campaign.accounts.set(accounts.values())
            ListeningRule.objects.create(
                campaign=campaign,
                name=names["listening"],
                keywords="fibra, router",
                hashtags="momentofibra",
            )
        return campaign

    def _accounts(self, users, names):
        specs = [
            ("bluesky", "brand", None, DEMO_HANDLES[0]),
            ("mastodon", "personal", users["ana"], DEMO_HANDLES[1]),
            ("x", "personal", users["bruno"], DEMO_HANDLES[2]),
        ]
        accounts = {}
        for network, kind, user, handle in specs:
            accounts[network], _ = SocialAccount.objects.get_or_create(
                network=network,
                handle=handle,
                defaults={
                    "kind": kind,
                    "user": user,
                    "base_url": NETWORK_BASE[network][0],
                    "state": SocialAccount.State.PAUSED,
                    "last_error": names["no_credentials"],
                },
            )
        return accounts
