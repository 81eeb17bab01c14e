"""L2TP sessions: the pppd processes the ip-up/ip-down hook records, ended when their user is
removed or changed (also those recorded late: see end_late_sessions)."""

from __future__ import annotations

import fractions
import json
import os
import signal
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from .journal import LOG, names_list
from .secretsfiles import ensure_private_dir, remove_quietly, write_atomically
from .settings import Paths

# How long after a user's change the sync still ends that user's sessions recorded late (seconds):
# see end_late_sessions. pppd reads chap-secrets, then negotiates IPCP, then runs ip-up: seconds,
# and the timer polls every 30 s; 120 s covers a slow IPCP and a poll or two skipped or slow.
LATE_SESSION_WINDOW = 120
SESSION_ENDS_FORMAT = 1
# The unit of /proc/PID/stat's start times (100 on Linux's usual builds).
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# Sessions: the ip-up/ip-down hook keeps one record per pppd (file name: its PID; first line: the
# authenticated peer name; second line: pppd's start time, field 22 of /proc/PID/stat, absent in
# a record an older hook wrote).


def process_start(paths: Paths, pid: int) -> Optional[int]:
    """A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None.

    Field 2 is the command in parentheses and may hold spaces and ')': the fields are counted
    after the last ')' (field 3 is the first there)."""
    try:
        with open(os.path.join(paths.proc, str(pid), "stat"), encoding="utf-8", errors="replace") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None
    fields = text.rpartition(")")[2].split()
    return int(fields[19]) if ")" in text and len(fields) > 19 and fields[19].isdigit() else None


def boot_ticks(paths: Paths) -> Optional[int]:
    """Clock ticks since boot from /proc/uptime, or None: the clock of /proc/PID/stat's start
    times (both count the time suspended). Decimal arithmetic: 12.34 s is 1234 ticks, not 1233."""
    try:
        with open(os.path.join(paths.proc, "uptime"), encoding="ascii", errors="replace") as f:
            return int(fractions.Fraction(f.read().split()[0]) * CLOCK_TICKS)
    except (OSError, IndexError, ValueError, ZeroDivisionError):
        return None


@dataclass(frozen=True)
class Session:
    """A live pppd's record: its PID, peer name and start time (None in an older hook's record)."""

    pid: int
    peer: str
    start: Optional[int]
    record: str

    @property
    def key(self) -> Optional[str]:
        """PID and start time: this pppd and no other (None for an older hook's record)."""
        return None if self.start is None else f"{self.pid}:{self.start}"


def sessions_of(names: set[str], paths: Paths) -> list[Session]:
    """The live sessions of names, removing stale records on the way (also when names is empty).

    A record counts only while /proc/PID/comm is pppd and, when the record holds a start time,
    while /proc/PID/stat gives that same start time: a pppd killed with SIGKILL runs no ip-down,
    so its record stays, and its PID may be reused by another user's pppd that has not reached
    ip-up yet (which then replaces the record). A record whose process is gone (or whose PID now
    belongs to something other than a pppd) is stale and removed; one whose PID is another pppd's
    is left to that pppd's ip-up, or removed once it is gone.
    """
    found: list[Session] = []
    try:
        entries = sorted(os.listdir(paths.sessions))
    except FileNotFoundError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        record = os.path.join(paths.sessions, entry)
        pid = int(entry)
        try:
            with open(os.path.join(paths.proc, entry, "comm"), encoding="utf-8", errors="replace") as f:
                alive = f.read().strip() == "pppd"
        except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
            alive = False
        if not alive:
            remove_quietly(record)
            continue
        if not names:
            continue
        try:
            with open(record, encoding="utf-8", errors="replace") as f:
                peer = f.readline().strip()
                recorded = f.readline().strip()
        except FileNotFoundError:
            continue  # its ip-down ran meanwhile
        if peer not in names:
            continue
        start = int(recorded) if recorded.isdigit() else None
        if start is not None and process_start(paths, pid) != start:
            continue  # the PID is another pppd's now (or its pppd is exiting)
        found.append(Session(pid, peer, start, record))
    return found


def signal_sessions(sessions: Iterable[Session], kill: Callable[[int, int], None]) -> list[Session]:
    """SIGTERM to each session's pppd; returns those signalled. pppd ends its link on SIGTERM and
    xl2tpd then closes that call alone."""
    signalled: list[Session] = []
    for session in sessions:
        try:
            kill(session.pid, signal.SIGTERM)
        except ProcessLookupError:
            remove_quietly(session.record)
            continue
        signalled.append(session)
    return signalled


def count_by_name(sessions: Iterable[Session]) -> dict[str, int]:
    """How many sessions per name."""
    counts: dict[str, int] = {}
    for session in sessions:
        counts[session.peer] = counts.get(session.peer, 0) + 1
    return counts


def end_sessions(names: set[str], paths: Paths, kill: Callable[[int, int], None], changed: Optional[int] = None) -> dict[str, int]:
    """Sends SIGTERM to every pppd serving one of names; returns how many per name. Stale records
    are removed (see sessions_of). names are remembered with changed, when the change that ends
    their sessions applied (clock ticks since boot; None: now), for end_late_sessions."""
    if names and changed is None:
        changed = boot_ticks(paths)
    signalled = signal_sessions(sessions_of(names, paths), kill)
    if names:
        remember_session_ends(names, changed, signalled, paths)
    return count_by_name(signalled)


# A client may authenticate with the old password just before chap-secrets is rewritten and reach
# ip-up (its record) just after the sync's scan: end_sessions does not see it, and it would stay
# connected with a password that is no longer valid. So the sync remembers each user whose sessions
# it ended and when the change applied, and at every poll for LATE_SESSION_WINDOW seconds ends that
# user's sessions whose pppd started before the change. pppd starts before it reads chap-secrets
# (xl2tpd starts it for the call; LCP comes before CHAP), so a session that authenticated with the
# old password always started before the change, and one whose pppd started after the change read
# the new file: it is never ended. Start times are in clock ticks, and "before" means an earlier
# tick than the one read just before chap-secrets is written: a pppd started in that same tick is
# not ended (it may have started after the rewrite), and one that used the old password would have
# had to start, negotiate LCP and authenticate within that tick (10 ms at 100 ticks a second).
# The price: a pppd that started before the change but authenticated after it, with the new
# password, is ended too, and its client reconnects. The time of ip-up or of authentication would
# not tell the two apart any better: a session that authenticated with the old password just before
# the rewrite reaches ip-up after it, and pppd does not say which chap-secrets it read. A session
# without a start time (an older hook's record) cannot be judged and is not ended late. Each
# session is signalled once: pppd may take seconds to exit after SIGTERM (LCP Terminate), and its
# record stays until it has.


def load_session_ends(paths: Paths) -> dict[str, tuple[int, set[str]]]:
    """The remembered changes: name -> (when, keys of the sessions already signalled)."""
    try:
        with open(paths.session_ends, encoding="utf-8") as f:
            raw = json.load(f)
        if raw.get("format") != SESSION_ENDS_FORMAT:
            raise ValueError(f"format {raw.get('format')!r}")
        return {str(n): (int(e["changed"]), {str(k) for k in e["ended"]}) for n, e in raw["users"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        LOG.error("error: %s cannot be read (%s); removed: sessions recorded late for earlier changes are not ended", paths.session_ends, type(e).__name__)
        remove_quietly(paths.session_ends)
        return {}


def save_session_ends(ends: dict[str, tuple[int, set[str]]], paths: Paths) -> None:
    """Writes the remembered changes (0600, atomically, in a 0700 directory); none: no file."""
    if not ends:
        remove_quietly(paths.session_ends)
        return
    users = {n: {"changed": c, "ended": sorted(k)} for n, (c, k) in sorted(ends.items())}
    document = {"format": SESSION_ENDS_FORMAT, "users": users}
    ensure_private_dir(os.path.dirname(os.path.abspath(paths.session_ends)))
    write_atomically(paths.session_ends, json.dumps(document, sort_keys=True) + "\n")


def remember_session_ends(names: set[str], changed: Optional[int], signalled: list[Session], paths: Paths) -> None:
    """Adds names, changed at changed, to the remembered changes (a later change of a name replaces
    its time: every session before it must end); signalled: the sessions ended already."""
    if changed is None:
        LOG.error("error: %s cannot be read; sessions of %s recorded after this change are not ended", os.path.join(paths.proc, "uptime"), names_list(names))
        return
    try:
        ends = load_session_ends(paths)
        for name in names:
            previous, keys = ends.get(name, (changed, set()))
            ends[name] = (max(previous, changed), keys | {s.key for s in signalled if s.peer == name and s.key is not None})
        save_session_ends(ends, paths)
    except OSError as e:
        LOG.error("error: %s cannot be written (%s); sessions of %s recorded after this change are not ended", paths.session_ends, e, names_list(names))


def end_late_sessions(paths: Paths, kill: Callable[[int, int], None]) -> dict[str, int]:
    """Ends the sessions of the remembered users that started before their change and were not
    signalled yet; forgets the changes older than LATE_SESSION_WINDOW. Returns how many per name."""
    ends = load_session_ends(paths)
    if not ends:
        return {}
    now = boot_ticks(paths)
    if now is None:
        return {}
    # A change in the future is another boot's (the file is on tmpfs: it should not happen).
    current = {n: e for n, e in ends.items() if 0 <= now - e[0] <= LATE_SESSION_WINDOW * CLOCK_TICKS}
    late = [s for s in sessions_of(set(current), paths) if s.start is not None and s.start < current[s.peer][0] and s.key not in current[s.peer][1]]
    signalled = signal_sessions(late, kill)
    for session in signalled:
        assert session.key is not None
        current[session.peer][1].add(session.key)  # the set inside the tuple
    try:
        save_session_ends(current, paths)
    except OSError as e:
        LOG.error("error: %s cannot be written (%s)", paths.session_ends, e)
    return count_by_name(signalled)
