"""SSM Parameter Store: listing the parameters under the stack's path (versions only) and
decrypting the new ones, with boto3 and the instance role's credentials."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Iterable

import botocore.exceptions

from .settings import SyncConfig
from .state import Decrypted, Revision

# GetParametersByPath returns at most 10 per page; GetParameters takes at most 10 names.
PAGE_SIZE = 10
DECRYPT_BATCH = 10
# A paging loop that never ends (a token that keeps coming back) must still end.
MAX_PAGES = 5000
SSM_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


class SsmUnavailable(Exception):
    """SSM Parameter Store did not answer (network, credentials, throttling, permissions)."""



@dataclass(frozen=True)
class Listed:
    """A parameter as GetParametersByPath lists it without decryption: no value."""

    name: str
    revision: Revision
    type: str


def revision_of(parameter: dict[str, Any]) -> Revision:
    """A Parameter's Version and LastModifiedDate (a datetime from botocore) as a Revision."""
    modified = parameter.get("LastModifiedDate")
    text = modified.astimezone(datetime.timezone.utc).isoformat() if isinstance(modified, datetime.datetime) else str(modified or "")
    return Revision(int(parameter["Version"]), text)


def list_parameters(client: Any, path: str) -> dict[str, Listed]:
    """Every parameter under path, with its version, no value: the cheap poll (no KMS request).

    Pages are best effort: one may be short or empty and still carry a NextToken, so the loop
    runs until there is no token.
    """
    listed: dict[str, Listed] = {}
    request: dict[str, Any] = {"Path": path, "Recursive": True, "WithDecryption": False, "MaxResults": PAGE_SIZE}
    try:
        for _ in range(MAX_PAGES):
            page = client.get_parameters_by_path(**request)
            for parameter in page.get("Parameters", []):
                listed[parameter["Name"]] = Listed(parameter["Name"], revision_of(parameter), parameter.get("Type", ""))
            token = page.get("NextToken")
            if not token:
                return listed
            request["NextToken"] = token
    except SSM_ERRORS as e:
        raise SsmUnavailable(f"GetParametersByPath {path}: {e}") from None
    raise SsmUnavailable(f"GetParametersByPath {path}: still a NextToken after {MAX_PAGES} pages")


def decrypt_parameters(client: Any, names: Iterable[str]) -> dict[str, Decrypted]:
    """The values of names, at most DECRYPT_BATCH per GetParameters call. A name deleted since
    the listing is absent from the result; a newer version than listed comes with its revision."""
    wanted = sorted(names)
    out: dict[str, Decrypted] = {}
    try:
        for start in range(0, len(wanted), DECRYPT_BATCH):
            answer = client.get_parameters(Names=wanted[start : start + DECRYPT_BATCH], WithDecryption=True)
            for parameter in answer.get("Parameters", []):
                out[parameter["Name"]] = Decrypted(revision_of(parameter), parameter["Value"])
    except SSM_ERRORS as e:
        raise SsmUnavailable(f"GetParameters: {e}") from None
    return out


def make_client(config: SyncConfig) -> Any:
    """An SSM client with boto3's default credentials (the instance role, via IMDSv2) in the
    configured region. Short timeouts and few retries: a poll that cannot reach SSM gives up
    quickly and the next one tries again."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "ssm",
        region_name=config.region,
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}),
    )
