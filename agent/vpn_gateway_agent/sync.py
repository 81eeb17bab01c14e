"""The sync: one poll (once) or the boot run, applying the whole update or refusing it."""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import time
from typing import Any, Callable, Optional

from .configuration import Configuration, check_configuration, parse_users_value
from .ikev2 import CRL_EFFECT_WAIT, PIECE_PATTERN, REVOCATION_WATCH, Ikev2, end_ikev2_sessions, install_ikev2
from .journal import LOG, names_list
from .l2tp_sessions import boot_ticks, end_late_sessions, end_sessions
from .secretsfiles import ensure_private_dir, render_chap_secrets, render_ipsec_secrets, reread_secrets_with_ipsec, write_atomically
from .settings import Paths, SyncConfig
from .ssm import Listed, SsmUnavailable, decrypt_parameters, list_parameters
from .state import Decrypted, Revision, State, load_state

def ended_sessions(ended: dict[str, int]) -> tuple[str, str]:
    """('3 sessions', 'alice x2, bob'): the sessions ended, in all and by name and count."""
    total = sum(ended.values())
    detail = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in sorted(ended.items()))
    return f"{total} session{'s' if total != 1 else ''}", detail


def summary(old: Optional[Configuration], new: Configuration, ended: dict[str, int], to_end: set[str]) -> str:
    """One line saying what changed, by name and count; no secret."""
    before = old.users if old else {}
    added = [n for n in new.users if n not in before]
    removed = [n for n in before if n not in new.users]
    changed = [n for n in new.users if n in before and before[n].password != new.users[n].password]
    moved = [n for n in new.users if n in before and before[n].ip != new.users[n].ip]
    parts = []
    for count, what in ((added, "added"), (removed, "removed"), (changed, "password changed"), (moved, "address changed")):
        if count:
            parts.append(f"{len(count)} {what} ({names_list(count)})")
    if old is None:
        parts.append("psk set")
    elif old.psk != new.psk:
        parts.append("psk changed")
    line = "applied: " + (", ".join(parts) if parts else "users and psk unchanged") + f"; {len(new.users)} users"
    if to_end:
        if sum(ended.values()):
            sessions, detail = ended_sessions(ended)
            line += f"; ended {sessions} ({detail})"
        else:
            line += "; no sessions to end"
    return line


class Sync:
    """One gateway's sync: SSM client, files and process control are all handed in, so a test
    runs the product's code unchanged against a stubbed client and temporary directories."""

    def __init__(
        self,
        config: SyncConfig,
        client: Any,
        paths: Paths = Paths(),
        kill: Callable[[int, int], None] = os.kill,
        reread_secrets: Callable[[], bool] = reread_secrets_with_ipsec,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        install: Callable[[Ikev2, Optional[Ikev2], str, bool, Optional[str]], list[str]] = install_ikev2,
        end_ikev2: Callable[[set[str]], dict[str, int]] = end_ikev2_sessions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.client = client
        self.paths = paths
        self.kill = kill
        self.reread_secrets = reread_secrets
        self.sleep = sleep
        self.monotonic = monotonic
        self.install = install
        self.end_ikev2 = end_ikev2
        self.clock = clock

    # -- entry points --------------------------------------------------------------------------

    def once(self) -> int:
        """One poll. 0: applied, unchanged, or a refusal already reported; 1: SSM unreachable, a
        new refusal, or pluto did not re-read the PSK. The files change only when an update applies."""
        try:
            lock = FileLock(self.paths.lock, wait=False).acquire()
        except BlockingIOError:
            # The boot run (waiting for SSM) or a slow poll: it does this work; the next poll follows.
            LOG.info("another vpn-gateway-sync is running; this poll is skipped")
            return 0
        with lock:
            state = load_state(self.paths.state)
            saved = json.dumps(state.to_json(), sort_keys=True)
            # before the poll: a revocation it applies is watched from the next poll on
            self._watch_revoked(state)
            try:
                status = self._poll(state)
            except SsmUnavailable as e:
                LOG.error("error: SSM Parameter Store unreachable (%s); the gateway keeps its current users and PSK", e)
                status = 1
            self._save_if_changed(state, saved)
            self._end_late_sessions()
            return status

    def boot(self) -> int:
        """At boot, before the VPN daemons start: SSM's configuration if it answers within the
        bound, else the last good one from disk. 1 only when there is nothing good to serve."""
        with FileLock(self.paths.lock, wait=True).acquire():
            state = load_state(self.paths.state)
            saved = json.dumps(state.to_json(), sort_keys=True)
            deadline = self.monotonic() + self.config.boot_timeout
            delay = 1.0
            attempt = 0
            while True:
                attempt += 1
                try:
                    self._poll(state)
                    reached = True
                    break
                except SsmUnavailable as e:
                    remaining = deadline - self.monotonic()
                    if remaining <= 0:
                        LOG.error("error: SSM Parameter Store unreachable after %d attempts in %.0f s (%s)", attempt, self.config.boot_timeout, e)
                        reached = False
                        break
                    LOG.warning("warning: SSM Parameter Store unreachable (attempt %d: %s); trying again in %.0f s", attempt, e, min(delay, remaining))
                    self.sleep(min(delay, remaining))
                    delay = min(delay * 2, 30.0)
            self._save_if_changed(state, saved)
            if not state.applied:
                LOG.error(
                    "error: no good configuration to serve: %s, and there is no last good one on disk (%s); "
                    "ipsec and xl2tpd start without users",
                    "SSM Parameter Store was unreachable" if not reached else "the one in SSM Parameter Store is refused (see above)",
                    self.paths.state,
                )
                return 1
            return self._serve_applied(state, reached)

    def _end_late_sessions(self) -> None:
        """At every poll, whatever SSM answered: the sessions recorded after their user's change
        (not at boot: the file is on tmpfs, and no pppd runs before the VPN daemons start)."""
        ended = end_late_sessions(self.paths, self.kill)
        if ended:
            LOG.info("ended %s recorded late (%s): started before the user's change", *ended_sessions(ended))

    # -- one poll ------------------------------------------------------------------------------

    def _poll(self, state: State) -> int:
        """Lists versions, decrypts what is new, applies the whole or refuses the whole."""
        listed = list_parameters(self.client, self.config.path)
        current = self._ours(listed, state)
        # Forget what no longer matches the listing: a fixed parameter is a new revision.
        state.pending = {n: d for n, d in state.pending.items() if current.get(n) == d.revision}
        state.refused = {n: r for n, r in state.refused.items() if current.get(n) == r}
        if state.psk_reread_pending:
            self._reread(state)
        if state.ikev2_pending:
            applied = self._applied_configuration(state)
            if applied is not None and applied.ikev2 is not None:
                self._install_ikev2(state, applied.ikev2, None)
        if current == {n: d.revision for n, d in state.applied.items()}:
            state.refused_listing = None
            return 0
        if state.refused_listing == current:
            return 0  # refused and reported already: nothing new to say, nothing to decrypt
        problems: list[str] = []
        newly_refused: set[str] = set()
        for name in sorted(current):
            if listed[name].type != "SecureString" and name not in state.refused:
                problems.append(f"{name}: is a {listed[name].type or 'untyped'} parameter; it must be a SecureString")
                state.refused[name] = current[name]
                newly_refused.add(name)
        known = {n: d for n, d in state.applied.items() if current.get(n) == d.revision}
        known.update(state.pending)
        wanted = [n for n in current if n not in known and n not in state.refused]
        fetched = decrypt_parameters(self.client, wanted) if wanted else {}
        for name in wanted:
            if name not in fetched:
                del current[name]  # deleted since the listing
                continue
            decrypted = fetched[name]
            current[name] = decrypted.revision
            own = self._own_problems(name, decrypted.value)
            if own:
                problems += [f"{name}: {p}" for p in own]
                state.refused[name] = decrypted.revision
                newly_refused.add(name)
            else:
                state.pending[name] = decrypted
                known[name] = decrypted
        still = sorted(n for n in current if n in state.refused and n not in newly_refused)
        if not problems and not still:
            configuration, problems = check_configuration({n: known[n].value for n in current}, self.config)
            if configuration is not None:
                self._apply(state, current, known, configuration)
                return 1 if state.psk_reread_pending else 0
        for problem in problems:
            LOG.error("refused: %s", problem)
        if still:
            LOG.error("refused: %s still refused (see earlier lines)", ", ".join(f"{n} version {current[n].version}" for n in still))
        applied = self._applied_configuration(state)
        count = len(problems) + len(still)
        LOG.error(
            "refused the update (%d problem%s): the last good configuration stays applied (%s)",
            count,
            "" if count == 1 else "s",
            f"{len(applied.users)} users" if applied else "none yet",
        )
        state.refused_listing = dict(current)
        return 1

    def _ours(self, listed: dict[str, Listed], state: State) -> dict[str, Revision]:
        """The PSK and the users shards among the listed parameters; others are reported once and ignored."""
        ours: dict[str, Revision] = {}
        ignored: list[str] = []
        for name, parameter in listed.items():
            shard = name[len(self.config.users_prefix) :] if name.startswith(self.config.users_prefix) else None
            piece = name[len(self.config.ikev2_prefix) :] if name.startswith(self.config.ikev2_prefix) else None
            if name == self.config.psk_name or (shard and "/" not in shard) or (piece and PIECE_PATTERN.match(piece)):
                ours[name] = parameter.revision
            elif not name.startswith(self.config.program_prefix):
                ignored.append(name)
        new = sorted(set(ignored) - set(state.ignored))
        if new:
            LOG.warning(
                "warning: ignoring %s: only %s, %s<shard> and %s<N> are read", names_list(new), self.config.psk_name, self.config.users_prefix, self.config.ikev2_prefix
            )
        state.ignored = sorted(ignored)
        return ours

    def _own_problems(self, name: str, value: str) -> list[str]:
        """A parameter's problems on its own (no other parameter needed to see them)."""
        if name == self.config.psk_name:
            return self.config.limits.psk_problems(value)
        if name.startswith(self.config.ikev2_prefix):
            return []  # a piece of a whole: checked with the others (parse_ikev2)
        return parse_users_value(value, self.config)[1]

    def _apply(self, state: State, current: dict[str, Revision], known: dict[str, Decrypted], configuration: Configuration) -> None:
        """Writes the files, ends the sessions that must end, has pluto re-read a new PSK, and
        records the configuration as the last good one (last: a crash before it re-applies)."""
        old = self._applied_configuration(state)
        changed = boot_ticks(self.paths)  # before chap-secrets is rewritten: see end_late_sessions
        self._write_files(configuration)
        to_end: set[str] = set()
        if old is not None:
            # A changed static address ends the session too: its old address may now be someone else's.
            to_end = {
                n
                for n, u in old.users.items()
                if n not in configuration.users or configuration.users[n].password != u.password or configuration.users[n].ip != u.ip
            }
        ended = end_sessions(to_end, self.paths, self.kill, changed)
        if old is not None and old.psk != configuration.psk:
            state.psk_reread_pending = True
        LOG.info("%s", summary(old, configuration, ended, to_end))
        if state.psk_reread_pending:
            self._reread(state)
        old_ikev2 = old.ikev2 if old is not None else None
        if configuration.ikev2 is not None and configuration.ikev2 != old_ikev2:
            newly = set(configuration.ikev2.revoked) - set(old_ikev2.revoked if old_ikev2 is not None else ())
            state.ikev2_end = sorted(set(state.ikev2_end) | {r.name for r in newly})
            # After a failed install the database may hold anything: then everything goes in again.
            since = None if state.ikev2_pending else old_ikev2
            state.ikev2_pending = True
            self._install_ikev2(state, configuration.ikev2, since)
        state.applied = {n: known[n] for n in current}
        state.applied_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        state.pending = {}
        state.refused = {}
        state.refused_listing = None

    def _install_ikev2(self, state: State, ikev2: Ikev2, old: Optional[Ikev2]) -> None:
        """The IKEv2 material into the NSS database; then the sessions of users newly revoked end
        (not before: a client would reconnect at once with its revoked certificate)."""
        running = os.path.exists(self.paths.pluto_ctl)
        problems = self.install(ikev2, old, self.paths.nss_dir, running, self.paths.crl_file)
        if problems:
            for problem in problems:
                LOG.error("error: IKEv2: %s", problem)
            LOG.error("error: IKEv2: the NSS database keeps what it had (tried again at the next poll)")
            return
        state.ikev2_pending = False
        LOG.info("IKEv2: CA, server certificate and CRL (%d revoked) in %s", len(ikev2.revoked), self.paths.nss_dir)
        if state.ikev2_end and running:
            # where pluto fetches the new CRL (within CRL_CHECK_INTERVAL), a session ended after
            # that cannot come back with the revoked certificate; elsewhere the watch ends it again.
            self.sleep(CRL_EFFECT_WAIT)
            ended = self.end_ikev2(set(state.ikev2_end))
            if ended:
                LOG.info("ended IKEv2 sessions of revoked users: %s", ", ".join(f"{n} ({c})" for n, c in sorted(ended.items())))
            until = self.clock() + REVOCATION_WATCH
            state.ikev2_watch.update({n: until for n in state.ikev2_end})
        state.ikev2_end = []

    def _watch_revoked(self, state: State) -> None:
        """At every poll for REVOCATION_WATCH seconds after a revocation: a session the revoked
        user made while pluto's NSS still held the old CRL is ended too."""
        now = self.clock()
        state.ikev2_watch = {n: t for n, t in state.ikev2_watch.items() if t > now}
        if not state.ikev2_watch or not os.path.exists(self.paths.pluto_ctl):
            return
        ended = self.end_ikev2(set(state.ikev2_watch))
        if ended:
            LOG.info("ended IKEv2 sessions of revoked users made before the CRL counted: %s", ", ".join(f"{n} ({c})" for n, c in sorted(ended.items())))

    def _reread(self, state: State) -> None:
        """Tells a running pluto to re-read ipsec.secrets; a pluto not running reads it when it starts."""
        if not os.path.exists(self.paths.pluto_ctl):
            state.psk_reread_pending = False
            return
        if self.reread_secrets():
            LOG.info("pluto re-read %s", self.paths.ipsec_secrets)
            state.psk_reread_pending = False
        else:
            LOG.error("error: pluto did not re-read %s; clients with the new PSK fail until it does (tried again at the next poll)", self.paths.ipsec_secrets)

    def _write_files(self, configuration: Configuration) -> list[str]:
        """chap-secrets and ipsec.secrets, each only if its content changed; returns those written."""
        written = []
        if write_atomically(self.paths.chap_secrets, render_chap_secrets(configuration, self.config)):
            written.append(self.paths.chap_secrets)
        if write_atomically(self.paths.ipsec_secrets, render_ipsec_secrets(configuration, self.config)):
            written.append(self.paths.ipsec_secrets)
        return written

    def _applied_configuration(self, state: State) -> Optional[Configuration]:
        """The last applied configuration, checked again (sync.json may have changed since)."""
        if not state.applied:
            return None
        configuration, problems = check_configuration({n: d.value for n, d in state.applied.items()}, self.config)
        for problem in problems:
            LOG.error("error: the last good configuration no longer passes: %s", problem)
        return configuration

    def _serve_applied(self, state: State, reached: bool) -> int:
        """At boot: (re)writes the files from the last applied configuration."""
        configuration = self._applied_configuration(state)
        if configuration is None:
            LOG.error("error: the last good configuration in %s cannot be served", self.paths.state)
            return 1
        written = self._write_files(configuration)
        if configuration.ikev2 is not None:
            # Before pluto starts (the boot unit's place): everything, so a lost database heals.
            self._install_ikev2(state, configuration.ikev2, None)
        if not reached:
            LOG.warning(
                "warning: serving the last good users from %s (%d users, applied %s)%s",
                self.paths.state,
                len(configuration.users),
                state.applied_at or "at an unknown time",
                f"; rewrote {', '.join(written)}" if written else "",
            )
        elif written:
            LOG.info("rewrote %s from the applied configuration", ", ".join(written))
        return 0

    # -- plumbing ------------------------------------------------------------------------------

    def _save_if_changed(self, state: State, saved: str) -> None:
        """Writes the state (0600 in a 0700 directory) when it differs from what was loaded."""
        document = state.to_json()
        if json.dumps(document, sort_keys=True) != saved:
            ensure_private_dir(os.path.dirname(os.path.abspath(self.paths.state)))
            write_atomically(self.paths.state, json.dumps(document, indent=1, sort_keys=True) + "\n")


class FileLock:
    """An exclusive flock, so that the boot run and the timer's polls never overlap (a boot may
    wait minutes for SSM). Held for a with-block; the kernel releases it if the process dies."""

    def __init__(self, path: str, wait: bool) -> None:
        self.path = path
        self.wait = wait
        self.fd = -1

    def acquire(self) -> "FileLock":
        """Takes the lock; without wait, raises BlockingIOError when another process holds it."""
        ensure_private_dir(os.path.dirname(os.path.abspath(self.path)))
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BaseException:
            os.close(self.fd)
            raise
        return self

    def __enter__(self) -> "FileLock":
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
