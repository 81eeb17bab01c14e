"""State on disk: what was applied (to serve it again when SSM is unreachable at boot), and what
was refused (so a bad version is decrypted and reported once, not every 30 seconds)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from .journal import LOG

STATE_FORMAT = 1


@dataclass(frozen=True)
class Revision:
    """One version of one parameter. LastModifiedDate tells a deleted-and-recreated parameter
    (whose versions start again at 1) from the one that was there before."""

    version: int
    modified: str

    def to_json(self) -> dict[str, Any]:
        """As the state file keeps it."""
        return {"version": self.version, "modified": self.modified}

    @staticmethod
    def from_json(raw: dict[str, Any]) -> "Revision":
        """The inverse of to_json."""
        return Revision(int(raw["version"]), str(raw["modified"]))


@dataclass(frozen=True)
class Decrypted:
    """A parameter's value at one revision."""

    revision: Revision
    value: str


def values_to_json(values: dict[str, Decrypted]) -> dict[str, Any]:
    """Decrypted values by name, as the state file keeps them."""
    return {n: {**d.revision.to_json(), "value": d.value} for n, d in sorted(values.items())}


def values_from_json(raw: dict[str, Any]) -> dict[str, Decrypted]:
    """The inverse of values_to_json."""
    return {n: Decrypted(Revision.from_json(v), str(v["value"])) for n, v in raw.items()}


def revisions_to_json(revisions: dict[str, Revision]) -> dict[str, Any]:
    """Revisions by name, as the state file keeps them."""
    return {n: r.to_json() for n, r in sorted(revisions.items())}


def revisions_from_json(raw: dict[str, Any]) -> dict[str, Revision]:
    """The inverse of revisions_to_json."""
    return {n: Revision.from_json(r) for n, r in raw.items()}


@dataclass
class State:
    """Everything the sync remembers between runs (/var/lib/vpn-gateway/sync-state.json, 0600)."""

    # The last applied good configuration, parameter by parameter.
    applied: dict[str, Decrypted] = field(default_factory=dict)
    applied_at: Optional[str] = None
    # Decrypted, each good on its own, not applied yet (the update was refused for another reason).
    pending: dict[str, Decrypted] = field(default_factory=dict)
    # Revisions refused on their own: never decrypted again.
    refused: dict[str, Revision] = field(default_factory=dict)
    # The whole listing last refused: the same listing again is refused without a word.
    refused_listing: Optional[dict[str, Revision]] = None
    # Parameter names under the path that are not ours, already reported.
    ignored: list[str] = field(default_factory=list)
    # pluto did not confirm the last PSK re-read: try again at the next poll.
    psk_reread_pending: bool = False
    # The applied IKEv2 material is not (all) in the NSS database yet: try again at the next poll.
    ikev2_pending: bool = False
    # Users newly revoked whose IKEv2 sessions end once the CRL is in (names only).
    ikev2_end: list[str] = field(default_factory=list)
    # Revoked users whose IKEv2 sessions are ended at every poll until then (name -> Unix time).
    ikev2_watch: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The state file's document (values in plain: the file is root's, 0600)."""
        return {
            "format": STATE_FORMAT,
            "applied": values_to_json(self.applied),
            "appliedAt": self.applied_at,
            "pending": values_to_json(self.pending),
            "refused": revisions_to_json(self.refused),
            "refusedListing": None if self.refused_listing is None else revisions_to_json(self.refused_listing),
            "ignored": sorted(self.ignored),
            "pskRereadPending": self.psk_reread_pending,
            "ikev2Pending": self.ikev2_pending,
            "ikev2End": sorted(self.ikev2_end),
            "ikev2Watch": dict(sorted(self.ikev2_watch.items())),
        }

    @staticmethod
    def from_json(raw: dict[str, Any]) -> "State":
        """The inverse of to_json; ValueError (or KeyError, TypeError) on a document it did not write."""
        if raw.get("format") != STATE_FORMAT:
            raise ValueError(f"format {raw.get('format')!r}, expected {STATE_FORMAT}")
        listing = raw.get("refusedListing")
        return State(
            applied=values_from_json(raw.get("applied", {})),
            applied_at=raw.get("appliedAt"),
            pending=values_from_json(raw.get("pending", {})),
            refused=revisions_from_json(raw.get("refused", {})),
            refused_listing=None if listing is None else revisions_from_json(listing),
            ignored=[str(n) for n in raw.get("ignored", [])],
            psk_reread_pending=bool(raw.get("pskRereadPending", False)),
            ikev2_pending=bool(raw.get("ikev2Pending", False)),
            ikev2_end=[str(n) for n in raw.get("ikev2End", [])],
            ikev2_watch={str(n): float(t) for n, t in raw.get("ikev2Watch", {}).items()},
        )


def load_state(path: str) -> State:
    """The state on disk; an empty one when there is none, or when it cannot be read (logged)."""
    try:
        with open(path, encoding="utf-8") as f:
            return State.from_json(json.load(f))
    except FileNotFoundError:
        return State()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        LOG.error("error: %s cannot be read (%s); starting without a last good configuration", path, type(e).__name__)
        return State()
