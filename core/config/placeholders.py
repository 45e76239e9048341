"""Placeholders the shipped stack files hold until a user puts in their own values.

`Pulumi.private.yaml` names its service principal with the nil GUID and holds
`secure: v1:replace-with-...` instead of ciphertext, so the stack previews as it is. The preview
warns with the commands to run; `pulumi up` refuses to deploy a placeholder (a role assignment
to the nil GUID fails only after the workspaces exist).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from pathlib import Path
from typing import Any

from core.config.stack import StackConfig, parse_config
from core.errors import NAMESPACE, ConfigError
from core.stack_file import PLACEHOLDER_SECRET, placeholder_secrets

NIL_GUID = "00000000-0000-0000-0000-000000000000"
SECRET_KEY = f"{NAMESPACE}:servicePrincipalSecret"
_WHAT = {
    "clientId": "<appId>",
    "objectId": "<objectId>",  # az ad sp show --id <appId> --query id -o tsv
    "tenantId": "<tenantId>",
}


def commands(config: StackConfig, placeholder_secret_keys: Iterable[str] = ()) -> list[str]:
    """The `pulumi config set` lines that replace each placeholder, in a stable order."""
    found = []
    principal = config.service_principal
    if principal is not None:
        ids = {
            "clientId": principal.client_id,
            "objectId": principal.object_id,
            "tenantId": principal.tenant_id,
        }
        for field, value in ids.items():
            if value == NIL_GUID:
                found.append(
                    f"pulumi config set --path {NAMESPACE}:servicePrincipal.{field} {_WHAT[field]}"
                )
    secret = config.service_principal_secret or ""
    if SECRET_KEY in set(placeholder_secret_keys) or secret.split(":", 1)[-1].startswith(
        PLACEHOLDER_SECRET
    ):
        found.append(f"pulumi config set --secret {SECRET_KEY} <client-secret>")
    return found


def refuse(config: StackConfig) -> None:
    """Raise when `config` still holds a placeholder: a deployment would fail half-way."""
    lines = commands(config)
    if not lines:
        return
    principal = config.service_principal
    key, value = "servicePrincipalSecret", config.service_principal_secret
    if principal is not None and NIL_GUID in (principal.client_id, principal.object_id):
        field = "clientId" if principal.client_id == NIL_GUID else "objectId"
        key, value = f"servicePrincipal.{field}", NIL_GUID
    raise ConfigError(
        key,
        value,
        "is the stack file's placeholder, which cannot be deployed; run: " + "; ".join(lines),
    )


def preview_warning(
    stack: str, root: Path, raw: Mapping[str, Any], secret_keys: Set[str]
) -> list[str]:
    """The preview's warning about a stack file's placeholders: a line, then the commands to
    run; empty when there is none. `raw` is the config the preview ran the program with."""
    config = parse_config(raw, stack, secret_keys)
    lines = commands(config, placeholder_secrets(stack, root))
    if not lines:
        return []
    return [
        f"Pulumi.{stack}.yaml holds placeholders; `pulumi up` refuses them until you run:",
        *(f"    {line}" for line in lines),
    ]
