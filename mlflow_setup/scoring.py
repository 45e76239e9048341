"""Score a pandas DataFrame against the stack's AzureML managed online endpoint.

The request is what AzureML's MLflow (no-code) deployments accept: the DataFrame in pandas'
split orientation under the key `input_data` (Microsoft Learn, "Guidelines for deploying MLflow
models", Input structure). The caller authenticates with a Microsoft Entra ID token for
`https://ml.azure.com/.default` (endpoint authMode AADToken; Learn, "Authenticate clients for
online endpoints": the data-plane token is for the resource ml.azure.com), or with an endpoint
key (authMode Key). Needs only the standard library, pandas and, for tokens, azure-identity, so
it runs on a Databricks cluster without the Pulumi SDKs.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from mlflow_setup.outputs import MlflowSetupError, StackOutputs

if TYPE_CHECKING:
    import pandas as pd

SCORING_SCOPE = "https://ml.azure.com/.default"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class TokenCredential(Protocol):
    """What azure-identity's credentials offer (azure.core.credentials.TokenCredential)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class EndpointScoringError(MlflowSetupError, RuntimeError):
    """The endpoint could not be reached, refused the caller, or answered with an error."""


def scoring_request(frame: pd.DataFrame) -> dict[str, Any]:
    """The request body: `{"input_data": {"columns": [...], "index": [...], "data": [...]}}`."""
    # to_dict, not to_json: to_json rounds floats to 10 digits, which can flip a prediction.
    split = json.loads(json.dumps(frame.to_dict(orient="split"), default=_plain))
    return {"input_data": {key: split[key] for key in ("columns", "index", "data")}}


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, timestamps as ISO 8601."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} to the endpoint")


def required_uri(
    uri: str | None, outputs: StackOutputs, kind: str, key: str, error: type[Exception]
) -> str:
    """`uri`, or `error` saying which endpoint the stack lacks and which `key` deploys one."""
    if not uri:
        raise error(
            f"{outputs.source}: the stack has no {kind} endpoint; deploy one with "
            f"`pulumi config set --path databricks-azureml:{key}.model <name>`, "
            f"`... {key}.version <version>` and `pulumi up`"
        )
    return uri


def endpoint_scoring_uri(outputs: StackOutputs) -> str:
    """The stack's scoring URI, or an error saying how to get an endpoint."""
    return required_uri(
        outputs.endpoint_scoring_uri, outputs, "online", "endpoint", EndpointScoringError
    )


def score(
    frame: pd.DataFrame,
    scoring_uri: str,
    *,
    credential: TokenCredential | None = None,
    key: str | None = None,
    timeout: float = 90.0,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> list[Any]:
    """POST `frame` to the endpoint and return its predictions, one per row.

    Authenticates with `key` when given (authMode Key), else with an Entra ID token from
    `credential` (default: azure-identity's DefaultAzureCredential, e.g. the cluster's service
    principal from AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET).
    """
    parts = urlsplit(scoring_uri)
    if not carries_token(scoring_uri):
        raise EndpointScoringError(
            f"scoring URI {scoring_uri!r} is not https://<endpoint>.<region>.inference.ml.azure.com"
            "/score (a token is only sent over https)"
        )
    bearer = key if key is not None else endpoint_token(credential)
    body = json.dumps(scoring_request(frame)).encode()
    request = urllib.request.Request(
        scoring_uri,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {bearer}",
        },
    )
    try:
        with opener(request, timeout=timeout) as answer:
            payload = json.loads(answer.read().decode() or "null")
    except urllib.error.HTTPError as error:
        raise EndpointScoringError(_http_problem(scoring_uri, error)) from None
    except urllib.error.URLError as error:
        raise EndpointScoringError(
            f"cannot reach {parts.netloc} ({error.reason}); with privateLink the endpoint "
            "answers only inside the stack's VNet, through the AzureML workspace's private "
            "endpoint (run this on the stack's cluster)"
        ) from None
    except json.JSONDecodeError as error:
        raise EndpointScoringError(f"{scoring_uri} answered no JSON ({error.msg})") from None
    return _predictions(payload, len(frame), scoring_uri)


def carries_token(uri: str) -> bool:
    """Whether a bearer token may go to `uri`: https, or http on loopback (tests)."""
    parts = urlsplit(uri)
    return bool(parts.netloc) and (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    )


def endpoint_token(credential: TokenCredential | None) -> str:
    """A Microsoft Entra token for AzureML's endpoints (online and batch)."""
    if credential is None:
        from azure.identity import DefaultAzureCredential  # only where a token is needed

        credential = DefaultAzureCredential()
    return str(credential.get_token(SCORING_SCOPE).token)


def _predictions(payload: Any, rows: int, uri: str) -> list[Any]:
    """The MLflow scoring server answers a list, or {"predictions": [...]} (MLflow 2+ format)."""
    if isinstance(payload, dict) and "predictions" in payload:
        payload = payload["predictions"]
    if not isinstance(payload, list) or len(payload) != rows:
        shown = json.dumps(payload)[:200]
        raise EndpointScoringError(f"{uri} answered {shown}, expected {rows} predictions")
    return payload


def _http_problem(uri: str, error: urllib.error.HTTPError) -> str:
    detail = error.read().decode(errors="replace").strip().splitlines()
    text = f"{uri} answered {error.code}: {detail[0][:300] if detail else error.reason}"
    if error.code in (401, 403):
        text += (
            "; with authMode AADToken the caller needs a token for "
            f"{SCORING_SCOPE} and a role with "
            "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action on the "
            "workspace (AzureML Data Scientist has it); with authMode Key pass key="
        )
    return text
