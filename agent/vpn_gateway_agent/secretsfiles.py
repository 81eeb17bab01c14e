"""The files pppd and pluto read the secrets from: chap-secrets and ipsec.secrets, written
atomically; pluto told to re-read ipsec.secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from typing import TYPE_CHECKING

from .journal import LOG

if TYPE_CHECKING:
    from .configuration import Configuration
    from .settings import SyncConfig

REREAD_SECRETS_COMMAND = ["/usr/sbin/ipsec", "secrets"]


def render_chap_secrets(configuration: Configuration, config: SyncConfig) -> str:
    """/etc/ppp/chap-secrets: one line per user (name, the LNS's name, password, address), sorted by name."""
    lines = [
        f"# Written by vpn-gateway-sync from the SSM parameters under {config.path}; changes here are overwritten.",
        "# client\tserver\tsecret\tIP addresses",
    ]
    for name in sorted(configuration.users):
        user = configuration.users[name]
        # A single address pins the user (pppd then asks for it); '*' lets xl2tpd's pool decide.
        lines.append(f'"{user.name}"\t{config.server_name}\t"{user.password}"\t{user.ip or "*"}')
    return "\n".join(lines) + "\n"


def render_ipsec_secrets(configuration: Configuration, config: SyncConfig) -> str:
    """/etc/ipsec.secrets: the PSK every L2TP/IPsec client uses."""
    return (
        f"# Written by vpn-gateway-sync from {config.psk_name}. The pre-shared key every L2TP/IPsec client uses.\n"
        f'%any %any : PSK "{configuration.psk}"\n'
    )


def write_atomically(path: str, content: "str | bytes") -> bool:
    """Replaces path with content, mode 0600, only when content or mode differ; True when written.

    A temporary file in the same directory, created 0600, written, fsynced and renamed over the
    old one: a reader (pppd authenticating, pluto re-reading) sees the old file or the new one,
    never half of one, and a crash leaves one of the two.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with open(path, "rb") as f:
            if f.read() == data and stat.S_IMODE(os.fstat(f.fileno()).st_mode) == 0o600:
                return False
    except FileNotFoundError:
        pass
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True



def ensure_private_dir(directory: str) -> None:
    """Creates directory 0700 (root's secrets live there), and makes an existing one 0700."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if stat.S_IMODE(os.stat(directory).st_mode) != 0o700:
        os.chmod(directory, 0o700)



def remove_quietly(path: str) -> None:
    """Removes a file that may already be gone."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def reread_secrets_with_ipsec() -> bool:
    """Makes pluto re-read /etc/ipsec.secrets without a restart: `ipsec secrets`, which is
    `whack --ctlsocket /run/pluto/pluto.ctl --rereadsecrets` in Libreswan 4.x and 5.x alike.
    Established SAs stay up; a client with the old PSK fails at its next IKE authentication."""
    try:
        result = subprocess.run(REREAD_SECRETS_COMMAND, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        LOG.error("error: %s: %s", " ".join(REREAD_SECRETS_COMMAND), e)
        return False
    if result.returncode != 0:
        LOG.error("error: %s exited with %d: %s", " ".join(REREAD_SECRETS_COMMAND), result.returncode, (result.stderr or result.stdout).strip()[:300])
        return False
    return True
