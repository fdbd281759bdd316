"""Secrets in config: a secure value never comes out in plain text, and `webhost:secrets`
carries the app's own secrets as Pulumi secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from cli import engine, plan, stackfile
from cli.main import main
from components import catalog, config
from components.config import ConfigError
from tests.conftest import PROGRAM, PROJECT_FILE, ROOT, stack_doc, write_stack
from tests.known import KnownMocks

SECRETS = "pulumi-python:dynamic/fly:AppSecrets"
SENSITIVE = "s3cr3t-do-not-print-9f2c"
CIPHERTEXT = "v1:Q0lQSEVSVEVYVC1OT1QtVE8tQkUtU0hPV04="


def secure() -> dict[str, str]:
    return {"secure": CIPHERTEXT}


def plan_of(
    doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    code = main(
        ["plan", "--stack-file", str(write_stack(tmp_path, doc, "prod")), "--format", "json"]
    )
    out, err = capsys.readouterr()
    return code, out, err


class Recorder(KnownMocks):
    """The engine's boundary: what the program asked it to create."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[str] = []

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        self.created.append(args.name)
        result: tuple[str | None, dict[str, Any]] = super().new_resource(args)
        return result


def evaluate_real(
    tmp_path: Path, extra: dict[str, str], secret_keys: list[str], mocks: Recorder | None = None
) -> engine.Evaluation:
    """As under `pulumi up`: values decrypted, only the top-level secret keys known."""
    loaded = stackfile.load(write_stack(tmp_path, stack_doc("prod"), "prod"), PROJECT_FILE)
    return engine.evaluate(
        PROGRAM,
        project=loaded.project,
        stack=loaded.stack,
        config=loaded.config | extra,
        secret_keys=secret_keys,
        preview=False,
        mocks=mocks or KnownMocks(),
    )


# -- a secure value in plain env ---------------------------------------------------------


def test_secure_value_in_plain_env_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack_doc("prod")
    doc["webhost:env"] = {**doc["webhost:env"], "API_TOKEN": secure()}
    code, out, err = plan_of(doc, tmp_path, capsys)
    assert code == 2, out
    assert out == ""
    problems = err.splitlines()[1:]
    assert len(problems) == 1
    assert problems[0].startswith("  webhost:env.API_TOKEN: a secure value in plain env")
    assert "webhost:secrets" in problems[0]
    assert CIPHERTEXT not in err and "Traceback" not in err


def test_pulumi_up_refuses_a_secure_env_before_registering_anything(tmp_path: Path) -> None:
    recorder = Recorder()
    env = json.dumps({"FLYIO_MODE": "true", "API_TOKEN": SENSITIVE})
    with pytest.raises(ConfigError) as caught:
        evaluate_real(tmp_path, {"webhost:env": env}, ["webhost:env"], recorder)
    assert caught.value.problems[0].startswith("webhost:env: a secure value in plain env")
    assert SENSITIVE not in str(caught.value)
    assert recorder.created == []


@pytest.mark.parametrize(
    ("key", "value"),
    [("webhost:org", "webhost-systems"), ("webhost:postgres", None), ("webhost:domain", None)],
)
def test_secure_value_in_any_plain_key_is_refused(
    key: str, value: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack_doc("prod")
    if value is None:  # a secure value inside a section
        section = dict(doc[key])
        first = next(k for k, v in section.items() if isinstance(v, str | int))
        section[first] = secure()
        doc[key] = section
        expected = f"{key}.{first}"
    else:
        doc[key] = secure()
        expected = key
    code, _, err = plan_of(doc, tmp_path, capsys)
    assert code == 2
    assert f"  {expected}: a secure value, but this key is plain config" in err
    assert CIPHERTEXT not in err


# -- webhost:secrets ------------------------------------------------------------------------


def test_app_secrets_reach_the_app_as_secrets_and_nowhere_else(tmp_path: Path) -> None:
    value = json.dumps({"API_TOKEN": SENSITIVE, "SENTRY_DSN": f"https://{SENSITIVE}@x"})
    evaluation = evaluate_real(tmp_path, {"webhost:secrets": value}, ["webhost:secrets"])
    values = evaluation.one(SECRETS).inputs["values"]
    assert rpc.is_rpc_secret(values)
    assert rpc.unwrap_rpc_secret(values)["API_TOKEN"] == SENSITIVE
    assert {"API_TOKEN", "SENTRY_DSN"} <= set(evaluation.rendered_outputs()["secretNames"])
    # Everything else the engine would see or store in plain text: inputs, outputs, spec.
    plain = [
        (r.name, value)
        for r in evaluation.resources
        for key, value in r.inputs.items()
        if not rpc.is_rpc_secret(value) and key != engine.PROVIDER_KEY
    ]
    assert SENSITIVE not in repr(plain)
    assert SENSITIVE not in repr(evaluation.outputs["flyToml"])
    assert SENSITIVE not in plan.as_json(evaluation)


def test_app_secrets_from_the_stack_file_plan_without_decrypting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack_doc("prod") | {"webhost:secrets": {"API_TOKEN": secure()}}
    code, out, err = plan_of(doc, tmp_path, capsys)
    assert code in (0, 3), err  # 3: a policy someone else is changing; config is valid
    document = json.loads(out)
    assert "API_TOKEN" in document["outputs"]["secretNames"]
    assert CIPHERTEXT not in out


def test_plain_values_under_secrets_are_refused_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack_doc("prod") | {
        "webhost:secrets": {"API_TOKEN": secure(), "PLAIN_ONE": SENSITIVE, "PLAIN_TWO": "x"}
    }
    code, _, err = plan_of(doc, tmp_path, capsys)
    assert code == 2
    problems = err.splitlines()[1:]
    assert [p.split(":")[1] for p in problems] == ["secrets.PLAIN_ONE", "secrets.PLAIN_TWO"]
    assert all("pulumi config set --secret --path 'webhost:secrets." in p for p in problems)
    assert SENSITIVE not in err


def test_pulumi_up_refuses_an_unencrypted_secrets_map(tmp_path: Path) -> None:
    recorder = Recorder()
    with pytest.raises(ConfigError) as caught:
        evaluate_real(tmp_path, {"webhost:secrets": json.dumps({"A": SENSITIVE})}, [], recorder)
    assert caught.value.problems == [
        "webhost:secrets.A: not encrypted, so it sits in the stack file in plain text; "
        "set it with `pulumi config set --secret --path 'webhost:secrets.A' <value>`"
    ]
    assert recorder.created == []


def parse_secrets(names: dict[str, str], env: dict[str, str] | None = None) -> list[str]:
    raw = dict(stackfile.load(ROOT / "Pulumi.prod.yaml", PROJECT_FILE).config)
    raw["webhost:secrets"] = json.dumps(names)
    if env is not None:
        raw["webhost:env"] = json.dumps(env)
    with pytest.raises(ConfigError) as caught:
        config.parse(raw, {"webhost:secrets"})
    return caught.value.problems


@pytest.mark.parametrize(
    "name",
    [
        *catalog.GENERATED_SECRETS,
        *catalog.DATA_SECRETS,
        *catalog.OPERATOR_SECRETS.values(),
        "PORT",
        "REGIONS",
        "POOL_SIZE",
        "PHX_HOST",
    ],
)
def test_secret_names_must_not_collide_with_what_the_program_sets(name: str) -> None:
    problems = parse_secrets({name: SENSITIVE})
    assert len(problems) == 1
    assert problems[0].startswith(f'webhost:secrets.{name} = "{name}": ')
    assert SENSITIVE not in problems[0]


def test_each_collision_with_plain_env_is_its_own_line() -> None:
    problems = parse_secrets(
        {"FEATURE_A": SENSITIVE, "FEATURE_B": SENSITIVE, "OWN": SENSITIVE},
        env={"FEATURE_A": "1", "FEATURE_B": "2"},
    )
    assert problems == [
        f"webhost:secrets.{n}: also set in webhost:env; an app variable is either plain or secret"
        for n in ("FEATURE_A", "FEATURE_B")
    ]


@pytest.mark.parametrize("name", ["api-token", "1TOKEN", "token", ""])
def test_secret_names_are_env_names(name: str) -> None:
    problems = parse_secrets({name: SENSITIVE})
    assert len(problems) == 1
    assert "an environment name such as PHX_HOST" in problems[0]
    assert SENSITIVE not in problems[0]


def test_secret_values_are_text_and_never_echoed() -> None:
    problems = parse_secrets({"API_TOKEN": {"nested": SENSITIVE}})  # type: ignore[dict-item]
    assert problems == ["webhost:secrets.API_TOKEN = [secret]: Input should be a valid string"]


def test_a_secret_key_of_the_wrong_shape_is_not_echoed() -> None:
    raw = dict(stackfile.load(ROOT / "Pulumi.prod.yaml", PROJECT_FILE).config)
    raw["webhost:stripeSecretKey"] = json.dumps([SENSITIVE])
    with pytest.raises(ConfigError) as caught:
        config.parse(raw, {"webhost:stripeSecretKey"})
    assert SENSITIVE not in str(caught.value)
    assert caught.value.problems == [
        "webhost:stripeSecretKey = [secret]: Input should be a valid string"
    ]


def test_the_spec_the_policies_read_leaves_secrets_out(tmp_path: Path) -> None:
    value = json.dumps({"API_TOKEN": SENSITIVE})
    evaluation = evaluate_real(tmp_path, {"webhost:secrets": value}, ["webhost:secrets"])
    platform = evaluation.one("webhost:index:Platform")
    assert "secrets" not in platform.inputs["spec"]
    assert SENSITIVE not in repr(platform.inputs)
