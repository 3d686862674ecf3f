"""Business time: how many seconds of opening hours lie between two moments, and when a
given amount of opening time will have passed. Pure (no Django): SLA clocks use it with
a team's hours and holidays.

A schedule with no hours at all is open around the clock (holidays still close it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: How far ``Schedule.add`` looks ahead before giving up (a schedule with no open day).
MAX_DAYS = 800


@dataclass(frozen=True)
class Schedule:
    """Opening hours in ``tz``: ``hours`` maps a weekday (Monday 0) to (start, end)
    intervals of local time, ``end`` after ``start`` (``time(0)`` as ``end`` means
    midnight at the end of that day). ``holidays`` are local dates when it is closed."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    hours: Mapping[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not self.hours

    def _day_intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        if day in self.holidays:
            return
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), self.tz)
        if self.always_open:
            yield datetime.combine(day, time(0), self.tz), next_midnight
            return
        for start, end in sorted(self.hours.get(day.weekday(), ())):
            opens = datetime.combine(day, start, self.tz)
            closes = next_midnight if end == time(0) else datetime.combine(day, end, self.tz)
            if closes > opens:
                yield opens, closes

    def _intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            for opens, closes in self._day_intervals(day + timedelta(days=offset)):
                if closes > start:
                    yield max(opens, start), closes

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date() + timedelta(days=1)
        while day <= last:
            for opens, closes in self._day_intervals(day):
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime | None:
        """The moment when ``seconds`` of open time will have passed after ``start``
        (``start`` itself for zero or less); None if the schedule never opens."""
        if seconds <= 0:
            return start
        left = seconds
        for lo, hi in self._intervals_from(start):
            span = (hi - lo).total_seconds()
            if span >= left:
                return lo + timedelta(seconds=left)
            left -= span
        return None
