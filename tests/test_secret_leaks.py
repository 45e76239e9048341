"""No output ever carries a secret a stack file holds, whatever the mistake around it.

Hypothesis writes mistaken stack files, each with a secret planted in a random place where a
value must never be shown: an unknown key (at the top or inside an object), a key whose name
says secret, a `secure:` value, a near-miss namespace, an unknown provider key, a flat key named
like a path, text that is not JSON, a line that breaks the YAML. Each file goes through what a
user runs: the config as the Pulumi CLI hands it to the program (`secure:` values decrypted),
the program itself, and the offline preview (text and JSON), in-process; a few through
`python -m tools.preview` as a subprocess. Nothing printed or raised may contain the secret,
and every failure is one line with exit 2 and no traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import parse_config
from core.errors import ConfigError
from core.stack_file import StackFileError, read_stack_config
from tests import preloaded
from tests.stacks import CLIENT_ID, OBJECT_ID
from tools import preview
from tools.offline import ROOT, run_program

NS = "databricks-azureml"
STACK = "leak"
SECTIONS = ("cluster", "network", "servicePrincipal", "endpoint", "tags")
secrets = st.from_regex(r"S3CR3T[A-Za-z0-9]{10}", fullmatch=True)
names = st.from_regex(r"[a-z][A-Za-z0-9]{2,15}", fullmatch=True)
secret_names = st.sampled_from(
    ["servicePrincipalSecrte", "clientSecret", "password", "apiToken", "storageKey", "sasToken"]
)

# Stacks that are right, for the mistakes to be made in.
DEV: dict[str, Any] = {"azure-native:location": "westeurope"}
PRIVATE: dict[str, Any] = {
    "azure-native:location": "westeurope",
    f"{NS}:privateLink": True,
    f"{NS}:servicePrincipal": {"clientId": CLIENT_ID, "objectId": OBJECT_ID},
    f"{NS}:servicePrincipalSecret": {"secure": "v1:planted"},
    f"{NS}:cluster": {"minWorkers": 0, "maxWorkers": 0},
}
# Mistakes that hold no secret, made next to the planted one, so it is not always the first.
NOISE: list[tuple[str, Any]] = [
    ("azure-native:location", "westeurop"),
    (f"{NS}:prefix", "X"),
    (f"{NS}:privateLink", "yes"),
    (f"{NS}:cluster", {"sparkVersion": "13", "nodeType": "banana"}),
    (f"{NS}:cluster", {"users": ["Users"]}),
    (f"{NS}:network", {"hostSubnet": "10.0.0.0/33"}),
    (f"{NS}:trackingMode", "both"),
    (f"{NS}:endpoint", {"model": "iris"}),
]


@st.composite
def planted(draw: st.DrawFn, secret: str) -> tuple[dict[str, Any], str]:
    """A stack's `config:` entries with `secret` planted, and text appended to the file."""
    entries = dict(draw(st.sampled_from([DEV, PRIVATE])))
    for key, value in draw(st.lists(st.sampled_from(NOISE), max_size=2)):
        entries[key] = value
    secure = {"secure": f"v1:{secret}"}
    section = draw(st.sampled_from(SECTIONS))
    where = draw(
        st.sampled_from(
            [
                "unknown",
                "nested-unknown",
                "secret-name",
                "secure-top",
                "secure-nested",
                "namespace",
                "provider",
                "flat",
                "not-json",
                "list-of-objects",
                "yaml",
            ]
        )
    )
    tail = ""
    if where == "unknown":
        entries[f"{NS}:{draw(names)}"] = secret
    elif where == "nested-unknown":
        entries[f"{NS}:{section}"] = {**_object(entries, section), draw(secret_names): secret}
    elif where == "secret-name":
        entries[f"{NS}:{draw(secret_names)}"] = secret
    elif where == "secure-top":
        key = draw(
            st.sampled_from(
                [
                    "azure-native:location",
                    f"{NS}:prefix",
                    f"{NS}:privateLink",
                    f"{NS}:{section}",
                    f"{NS}:{draw(names)}",
                    f"{NS}:servicePrincipalSecret",
                ]
            )
        )
        entries[key] = secure
    elif where == "secure-nested":
        field = draw(st.sampled_from(["users", "sparkVersion", "hostSubnet", "clientId", "model"]))
        entries[f"{NS}:{section}"] = {**_object(entries, section), field: secure}
    elif where == "namespace":
        namespace = draw(
            st.sampled_from(
                [
                    "databricks-azure-ml",
                    "databricks_azureml",
                    "Databricks-AzureML",
                    "azure",
                    "azure-nativ",
                    "azure_native",
                ]
            )
        )
        entries[f"{namespace}:{draw(secret_names)}"] = secret
    elif where == "provider":
        entries[f"azure-native:{draw(secret_names)}"] = secret
    elif where == "flat":
        entries[f"{NS}:{section}.{draw(secret_names)}"] = secret
    elif where == "not-json":
        entries[f"{NS}:{section}"] = f'{{"{draw(secret_names)}": "{secret}"'
    elif where == "list-of-objects":
        entries[f"{NS}:cluster"] = {"users": [{draw(secret_names): secret}]}
    else:
        tail = draw(
            st.sampled_from(
                [
                    f"  broken: '{secret}\n",
                    f"\tbroken: {secret}\n",
                    f"  broken: *{secret}\n",
                    f"  broken: !{secret} x\n",
                    f"  - {secret}\n",
                    f"{secret}\n",
                ]
            )
        )
    keys = draw(st.permutations(list(entries)))
    return {k: entries[k] for k in keys}, tail


def _object(entries: dict[str, Any], section: str) -> dict[str, Any]:
    value = entries.get(f"{NS}:{section}")
    return dict(value) if isinstance(value, dict) else {}


def write_stack(folder: Path, entries: dict[str, Any], tail: str) -> None:
    (folder / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    text = yaml.safe_dump({"config": entries}, sort_keys=False) + tail
    (folder / f"Pulumi.{STACK}.yaml").write_text(text)


def as_the_cli_hands_it(entries: dict[str, Any], secret: str) -> tuple[dict[str, str], set[str]]:
    """What `pulumi up` gives the program: `secure:` values decrypted, their keys secret."""

    def decrypt(value: Any) -> tuple[Any, bool]:
        if isinstance(value, dict) and "secure" in value:
            return secret, True
        if isinstance(value, dict):
            pairs = {k: decrypt(v) for k, v in value.items()}
            return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
        if isinstance(value, list):
            items = [decrypt(v) for v in value]
            return [v for v, _ in items], any(s for _, s in items)
        return value, False

    raw: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in entries.items():
        full = key if ":" in key else f"{NS}:{key}"
        plain, is_secret = decrypt(value)
        if isinstance(plain, bool):
            plain = "true" if plain else "false"
        raw[full] = json.dumps(plain) if isinstance(plain, dict | list) else str(plain)
        if is_secret:
            secret_keys.add(full)
    return raw, secret_keys


def assert_no_leak(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret not in text


def assert_one_line_failure(text: str) -> None:
    assert text.count("\n") <= 1 and "\n" not in text.strip(), text
    assert "Traceback" not in text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), secrets)
def test_config_errors_never_carry_a_planted_secret(data, secret):
    entries, tail = data.draw(planted(secret))
    raw, secret_keys = as_the_cli_hands_it(entries, secret)
    try:
        parse_config(raw, STACK, secret_keys)
    except ConfigError as error:
        assert_no_leak(secret, str(error), repr(error), repr(error.value))
        assert_one_line_failure(str(error))
    with tempfile.TemporaryDirectory() as folder:
        write_stack(Path(folder), entries, tail)
        try:
            config, keys = read_stack_config(STACK, Path(folder))
        except StackFileError as error:
            assert_no_leak(secret, str(error))
            assert_one_line_failure(str(error))
        else:  # the config is the program's input; what the program says about it is output
            try:
                parse_config(config, STACK, keys)
            except ConfigError as error:
                assert_no_leak(secret, str(error), repr(error.value))
                assert_one_line_failure(str(error))


def run_preview_in_process(folder: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = preview.main(["--stack", STACK, "--project-dir", str(folder), *args])
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), secrets, st.booleans())
def test_the_program_and_the_preview_never_print_a_planted_secret(data, secret, as_json):
    entries, tail = data.draw(planted(secret))
    raw, secret_keys = as_the_cli_hands_it(entries, secret)
    run = run_program(raw, STACK, deployed=True, secret_keys=secret_keys)  # as `pulumi up`
    if run.error is not None:
        assert_no_leak(secret, run.error)
        assert_one_line_failure(run.error)
    with tempfile.TemporaryDirectory() as folder:
        write_stack(Path(folder), entries, tail)
        code, out, err = run_preview_in_process(Path(folder), *(["--json"] if as_json else []))
    assert_no_leak(secret, out, err)
    if code != 0:
        assert code == 2 and out == ""
        assert err.startswith("error: ")
        assert_one_line_failure(err)
    elif as_json:
        json.loads(out)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), secrets)
def test_the_preview_command_never_prints_a_planted_secret(data, secret):
    entries, tail = data.draw(planted(secret))
    with tempfile.TemporaryDirectory() as folder:
        write_stack(Path(folder), entries, tail)
        done = preloaded.python(
            "-m", "tools.preview", "--stack", STACK, "--project-dir", folder, cwd=ROOT, timeout=300
        )
    assert_no_leak(secret, done.stdout, done.stderr)
    if done.returncode != 0:
        assert done.returncode == 2 and done.stdout == ""
        assert_one_line_failure(done.stderr)
