"""What the schedule grid shows, in minutes and columns: Qt-free, so the day sheet and the
week view share it and tests can reason about it without pixels.

A column is one provider on one day (the day sheet: providers side by side; the week view:
one provider's seven days). Times inside a column are minutes since the column's local
midnight, in the workstation's zone (records are UTC; the workstation's clock and zone only
label what the user sees).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from backend_client.dto import AppointmentInfo

SNAP_MINUTES = 5      # drag and drop, edge drag and keyboard moves snap to this
SLOT_MINUTES = 15     # keyboard navigation over free time, and a double-click's slot
DEFAULT_FIRST = 7 * 60
DEFAULT_LAST = 19 * 60
DAY_MINUTES = 24 * 60

# Shown faded or hidden (the "Show cancelled" toggle); never an obstacle to booking.
INACTIVE_STATUSES = ("cancelled",)
# What can still be moved by dragging or by keys: what has happened stays where it was.
MOVABLE_STATUSES = ("booked", "checked_in")


def local_midnight(day: date, zone: tzinfo | None) -> datetime:
    """The column's day starting in the workstation's zone (None: the system's zone)."""
    naive = datetime.combine(day, time())
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


def at_minute(day: date, minute: int, zone: tzinfo | None) -> datetime:
    """The aware instant ``minute`` minutes into ``day`` (wall clock, so a day with a
    daylight-saving change still puts 09:00 at 09:00)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


def minute_of(moment: datetime, day: date, zone: tzinfo | None) -> int:
    """Minutes of ``moment`` after ``day``'s local midnight (may be < 0 or > 1440 for an
    appointment that spills over midnight)."""
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    return int((local.replace(tzinfo=None) - datetime.combine(day, time()))
               .total_seconds() // 60)


def hhmm(minute: int) -> str:
    minute = max(0, min(DAY_MINUTES, minute))
    return f"{minute // 60:02d}:{minute % 60:02d}"


def floor_to(minute: int, step: int) -> int:
    return minute - minute % step


@dataclass(frozen=True)
class GridColumn:
    """One provider on one day. ``working`` are (start, end) minutes the provider can be
    booked; everything else is out of hours or a break."""

    provider_id: int
    day: date
    title: str
    subtitle: str = ""
    working: tuple[tuple[int, int], ...] = ()
    appointments: tuple[AppointmentInfo, ...] = ()
    is_today: bool = False
    badge: str = ""           # a PRESENCE_STATES key, "" when presence is not known
    provider_name: str = ""


@dataclass(slots=True)
class Block:
    """An appointment placed in a column; overlapping ones share the width in lanes."""

    appointment: AppointmentInfo
    column: int
    start: int
    end: int
    lane: int = 0
    lanes: int = 1
    pending: bool = False     # shown where the user put it; the record has not caught up


@dataclass
class Placement:
    """Where a move in flight shows an appointment until the record says otherwise."""

    provider_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass
class GridData:
    """Columns, the visible blocks per column and the time axis."""

    columns: list[GridColumn] = field(default_factory=list)
    blocks: list[list[Block]] = field(default_factory=list)
    first_minute: int = DEFAULT_FIRST
    last_minute: int = DEFAULT_LAST

    def block_of(self, appointment_id: int) -> Block | None:
        for column in self.blocks:
            for block in column:
                if block.appointment.id == appointment_id:
                    return block
        return None

    def column_of(self, provider_id: int, day: date) -> int:
        for i, column in enumerate(self.columns):
            if column.provider_id == provider_id and column.day == day:
                return i
        return -1

    def live_blocks(self, column: int) -> list[Block]:
        """Blocks that occupy time (a cancelled one does not, even when shown)."""
        return [b for b in self.blocks[column]
                if b.appointment.status not in INACTIVE_STATUSES]

    def covering(self, column: int, minute: int) -> Block | None:
        """The appointment occupying ``minute`` in ``column`` (a live one first)."""
        hits = [b for b in self.blocks[column] if b.start <= minute < b.end]
        hits.sort(key=lambda b: (b.appointment.status in INACTIVE_STATUSES, b.start))
        return hits[0] if hits else None

    def slot_end(self, column: int, start: int) -> int:
        """The free slot starting at ``start`` runs to the next grid line or the next
        appointment, whichever comes first."""
        end = floor_to(start, SLOT_MINUTES) + SLOT_MINUTES
        for block in self.live_blocks(column):
            if start < block.start < end:
                end = block.start
        return min(end, self.last_minute)

    def slot_start_at(self, column: int, minute: int) -> int:
        """The free slot containing ``minute``: from the grid line or the end of the
        appointment before it, whichever is later."""
        start = floor_to(minute, SLOT_MINUTES)
        for block in self.live_blocks(column):
            if start < block.end <= minute:
                start = block.end
        return max(self.first_minute, start)

    def step_down(self, column: int, end: int) -> tuple[str, int]:
        """What follows something ending at ``end``: ("appt", id), ("slot", minute) or
        ("none", end) at the bottom of the axis."""
        if end >= self.last_minute:
            return ("none", end)
        hit = self.covering(column, end)
        if hit is not None:
            return ("appt", hit.appointment.id)
        return ("slot", end)

    def step_up(self, column: int, start: int) -> tuple[str, int]:
        if start <= self.first_minute:
            return ("none", start)
        hit = self.covering(column, start - 1)
        if hit is not None:
            return ("appt", hit.appointment.id)
        return ("slot", self.slot_start_at(column, start - 1))


class DayClock:
    """Minutes after a day's local midnight, fast: on the days without a daylight-saving
    change (all but two a year) it is arithmetic on timestamps; on those it asks the zone."""

    __slots__ = ("day", "zone", "midnight", "steady")

    def __init__(self, day: date, zone: tzinfo | None) -> None:
        self.day, self.zone = day, zone
        start = local_midnight(day, zone)
        end = at_minute(day, DAY_MINUTES, zone)
        self.midnight = start.timestamp()
        self.steady = start.utcoffset() == end.utcoffset()

    def minutes(self, moment: datetime) -> int:
        if self.steady:
            return int((moment.timestamp() - self.midnight) // 60)
        return minute_of(moment, self.day, self.zone)


def working_minutes(periods: list[tuple[datetime, datetime]], day: date,
                    zone: tzinfo | None) -> tuple[tuple[int, int], ...]:
    out = []
    for starts, ends in periods:
        a, b = max(0, minute_of(starts, day, zone)), min(DAY_MINUTES, minute_of(ends, day, zone))
        if b > a:
            out.append((a, b))
    return tuple(sorted(out))


def build_grid(columns: list[GridColumn], *, zone: tzinfo | None, show_cancelled: bool,
               pending: dict[int, Placement]) -> GridData:
    """Blocks for every column, moves in flight shown where the user put them, and an
    axis from 07:00 to 19:00 widened to whatever hours or appointments fall outside."""
    data = GridData(columns=list(columns), blocks=[[] for _ in columns])
    first, last = DEFAULT_FIRST, DEFAULT_LAST
    index = {(c.provider_id, c.day): i for i, c in enumerate(columns)}
    clocks: dict[date, DayClock] = {}
    for i, column in enumerate(columns):
        for a, b in column.working:
            first, last = min(first, a), max(last, b)
        clock = clocks.get(column.day)
        if clock is None:
            clock = clocks[column.day] = DayClock(column.day, zone)
        out = data.blocks[i]
        steady, midnight = clock.steady, clock.midnight
        for appt in column.appointments:
            if pending and appt.id in pending:
                place = pending[appt.id]
                local = (place.starts_at.astimezone(zone) if zone is not None
                         else place.starts_at.astimezone())
                target = index.get((place.provider_id, local.date()))
                if target is None:
                    continue  # moved to a day or provider not on screen
                day = columns[target].day
                data.blocks[target].append(Block(
                    appt, target, minute_of(place.starts_at, day, zone),
                    minute_of(place.ends_at, day, zone), pending=True))
                continue
            if not show_cancelled and appt.status in INACTIVE_STATUSES:
                continue
            if steady:   # inlined DayClock.minutes: this loop runs 1,500 times a sheet
                start = int((appt.starts_at.timestamp() - midnight) // 60)
                end = int((appt.ends_at.timestamp() - midnight) // 60)
            else:
                start, end = clock.minutes(appt.starts_at), clock.minutes(appt.ends_at)
            if end <= 0 or start >= DAY_MINUTES:
                continue
            out.append(Block(appt, i, start, end))
    for blocks in data.blocks:
        _lanes(blocks)
        if blocks:
            first = min(first, blocks[0].start)
            last = max(last, max(b.end for b in blocks))
    data.first_minute = max(0, floor_to(first, 60))
    data.last_minute = min(DAY_MINUTES, -(-last // 60) * 60)
    return data


def _lanes(blocks: list[Block]) -> None:
    """Sorts the column's blocks by time and puts overlapping ones (a cancelled
    appointment and its replacement) side by side, in lanes."""
    blocks.sort(key=lambda b: (b.start, -b.end, b.appointment.id))
    reach = -1
    for block in blocks:
        if block.start < reach:
            break
        reach = block.end
    else:
        return  # nothing overlaps (the usual day): one lane each
    cluster: list[Block] = []
    lane_ends: list[int] = []
    cluster_end = -1

    def flush() -> None:
        lanes = max(b.lane for b in cluster) + 1
        for b in cluster:
            b.lanes = lanes

    for block in blocks:
        if block.start >= cluster_end:
            if len(cluster) > 1:
                flush()
            cluster, lane_ends = [], []
        lane = next((n for n, end in enumerate(lane_ends) if end <= block.start), None)
        if lane is None:
            lane = len(lane_ends)
            lane_ends.append(block.end)
        else:
            lane_ends[lane] = block.end
        block.lane = lane
        cluster.append(block)
        cluster_end = max(cluster_end, block.end)
    if len(cluster) > 1:
        flush()
