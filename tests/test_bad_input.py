"""Bad input of every kind: exit 2, one line per problem naming the key, never a traceback.

The key list comes from the config model itself, so a new key is covered the day it
is added; each gets every kind of YAML value it does not take.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import types
import typing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from cli import stackfile
from cli.main import main
from components import config
from components.config import ConfigError, StackConfig
from tests.configcase import refused_under_up
from tests.conftest import PROJECT_FILE, ROOT, stack_doc

SECRET_TEXT = "v1:U0VDUkVULUNJUEhFUlRFWFQtRE8tTk9ULVNIT1c="

# A sample child for maps whose keys are the operator's (regions, env, secrets) and
# an index for lists: the bad value goes there too.
MAP_CHILD = {"regions": "iad", "env": "FEATURE_X", "secrets": "API_TOKEN"}


def _inner(annotation: Any) -> Any:
    """The annotation without Optional and Annotated wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = members[0]
        else:
            return annotation


def _keys(model: type[BaseModel], prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    found: list[tuple[tuple[str, ...], Any]] = []
    for name, info in model.model_fields.items():
        path = (*prefix, info.alias or name)
        inner = _inner(info.annotation)
        found.append((path, info))
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            found += _keys(inner, path)
        elif typing.get_origin(inner) is dict:
            value = typing.get_args(inner)[1]
            found.append(((*path, MAP_CHILD[path[-1]]), value))
        elif typing.get_origin(inner) is list:
            found.append(((*path, "0"), typing.get_args(inner)[0]))
    return found


KEYS = _keys(StackConfig, ())


def _base(spec: Any) -> Any:
    return _inner(spec.annotation if isinstance(spec, FieldInfo) else spec)


def _optional(spec: Any) -> bool:
    return isinstance(spec, FieldInfo) and not spec.is_required() and spec.default is None


# Values in YAML text, each of a kind; `text` kinds arrive as text at the top level
# (Pulumi passes scalars to programs as their text), so a free string key takes them.
KINDS: dict[str, str] = {
    "null": "null",
    "list": "[1, {a: b}]",
    "map": "{x: {y: 1}}",
    "bool": "true",
    "float": "2.5",
    "int": "7",
    "huge-int": str(10**30),
    "digits-5000": "9" * 5000,
    "inf": "1.0e+400",
    "nan": ".nan",
    "date": "2024-01-01",
    "binary": "!!binary aGVsbG8=",
    "set": "!!set {a, b}",
    "control": '"a\\x1b[31mb"',
    "nested-deep": "[" * 60 + "]" * 60,
}
TEXT_KINDS = {"bool", "float", "int", "huge-int", "date"}


def _takes(path: tuple[str, ...], spec: Any, kind: str) -> bool:
    """Whether this kind is a valid value of the key by its declared type."""
    base = _base(spec)
    top = len(path) == 1
    if base is str and (kind == "date" or (top and kind in TEXT_KINDS)):
        return True  # a string key; free text (env values) takes control characters too
    if base is str and path[0] == "env" and kind == "control":
        return True
    if base is bool and kind == "bool":
        return True
    if base is date and kind == "date":
        return True  # postgres.backups.lastDrill.date: a YAML date is the day itself
    if path[-1] == "autoStopMachines" and kind == "bool":
        return True  # fly.toml's legacy boolean, mapped to off/stop
    if base is int and kind == "int":
        return True
    if base is float and kind == "int":
        return True  # a whole number where a float is taken (deploy.maxUnavailable: 7)
    return kind == "null" and _optional(spec) and not top


def _set(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    key = f"webhost:{path[0]}"
    if len(path) == 1:
        doc[key] = value
        return
    node = doc.setdefault(key, {})
    for part in path[1:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


PROD = stack_doc("prod")


MARKER = "__BAD_VALUE__"


@functools.cache
def _stack_with_marker(path: tuple[str, ...]) -> str:
    """Prod's stack file with MARKER where `path`'s value goes: dumped once per key,
    each kind of bad value then put in its place."""
    doc = copy.deepcopy(PROD)
    parts = list(path)
    if parts[-1] == "0":  # a list element: the list holds the bad value
        parts, value = parts[:-1], [MARKER]
    else:
        value = MARKER  # type: ignore[assignment]
    _set(doc, tuple(parts), value)
    return yaml.dump({"config": doc}, Dumper=yaml.CSafeDumper, sort_keys=False, width=10**6)


def _stack_text(path: tuple[str, ...], kind: str) -> str:
    text = _stack_with_marker(path)
    return text.replace(f"'{MARKER}'", KINDS[kind]).replace(MARKER, KINDS[kind])


CASES = [
    pytest.param(path, kind, id=f"{'.'.join(path)}-{kind}")
    for path, spec in KEYS
    for kind in KINDS
    if not _takes(path, spec, kind)
]


@pytest.mark.parametrize(("path", "kind"), CASES)
def test_every_key_refuses_every_kind_it_does_not_take(
    path: tuple[str, ...], kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(_stack_text(path, kind))
    code = main(["plan", "--stack-file", str(stack)])
    out, err = capsys.readouterr()
    assert code == 2, out
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines and all(line.startswith(("error: ", "  webhost:")) for line in lines), err
    assert all(len(line) < 400 for line in lines)
    key = "webhost:" + ".".join(path[:1] + tuple(p for p in path[1:] if p != "0"))
    assert any(key in line for line in lines), err
    assert "\x1b" not in err  # control characters never reach the terminal raw


# -- the program itself (`pulumi up`) refuses the same input before registering anything --


ENGINE_TEXT = {  # what the engine hands the program for the kinds above
    "list": '[1, {"a": "b"}]',
    "map": '{"x": {"y": 1}}',
    "huge-int": str(10**30),
    "digits-5000": "9" * 5000,
    "nested-deep": "[" * 5000 + "]" * 5000,
    "control": "a\x1b[31mb",
}


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param(path, kind, id=f"{'.'.join(path)}-{kind}")
        for path, spec in KEYS
        if len(path) == 1
        for kind in ENGINE_TEXT
        if not _takes(path, spec, kind)
        # a decrypted secret is any text; only structured values are wrong for it
        and not (_base(spec) is SecretStr and kind not in ("list", "map"))
    ],
)
def test_pulumi_up_refuses_bad_values_before_any_resource(path: tuple[str, ...], kind: str) -> None:
    secret_keys = (
        [f"webhost:{path[0]}"]
        if _base(dict(KEYS)[path]) is SecretStr or path[0] == "secrets"
        else []
    )
    found = refused_under_up({f"webhost:{path[0]}": ENGINE_TEXT[kind]}, secret_keys)
    assert any(line.startswith(f"webhost:{path[0]}") for line in found)
    assert all("\x1b" not in line and "\n" not in line for line in found)


# -- stack files of every shape ---------------------------------------------------------

GOOD = (PROJECT_FILE.parent / "Pulumi.prod.yaml").read_text()


def _bytes_cases() -> list[Any]:
    good = GOOD.encode()
    laughs = "config:\n  webhost:org: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  webhost:k{i}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    return [
        pytest.param(good.replace(b"webhost-systems", b"webhost-\xe9"), "not UTF-8", id="latin-1"),
        pytest.param(b"\xef\xbb\xbf" + good, "byte-order mark", id="utf8-bom"),
        pytest.param(GOOD.encode("utf-16"), "UTF-16", id="utf16-bom"),
        pytest.param(GOOD.encode("utf-16-le"), "UTF-16", id="utf16-le-no-bom"),
        pytest.param(GOOD.encode("utf-16-be"), "UTF-16", id="utf16-be-no-bom"),
        pytest.param(
            GOOD.replace(
                "  webhost:tier: professional\n",
                "  webhost:tier: professional\n  webhost:tier: business\n",
            ).encode(),
            "duplicate key webhost:tier",
            id="duplicate-top-key",
        ),
        pytest.param(
            GOOD.replace("    cpus: 2\n", "    cpus: 2\n    cpus: 4\n").encode(),
            "duplicate key cpus",
            id="duplicate-nested-key",
        ),
        pytest.param(laughs.encode(), "anchors (&name) are not allowed", id="billion-laughs"),
        pytest.param(
            b"config:\n  webhost:org: *nothing\n", "aliases (*name) are not allowed", id="alias"
        ),
        pytest.param(b"config:\n  <<: {a: 1}\n", "", id="merge-key"),
        pytest.param(b"- config\n- x\n", "a mapping with a `config:` key", id="top-is-list"),
        pytest.param(b"just text\n", "a mapping with a `config:` key", id="top-is-text"),
        pytest.param(b"", "a mapping with a `config:` key", id="empty"),
        pytest.param(b"encryptionsalt: x\n", "a mapping with a `config:` key", id="no-config"),
        pytest.param(b"config: [a, b]\n", "`config:` must be a mapping", id="config-is-list"),
        pytest.param(b"config: 3\n", "`config:` must be a mapping", id="config-is-int"),
        pytest.param(b'config:\n  "webhost:o\\x1brg": x\n', "control characters", id="ctrl-key"),
        pytest.param(b"config:\n  webhost:org: a\x00b\n", "not allowed", id="nul-byte"),
        pytest.param(b"config:\n  ? [a, b]\n  : 1\n", "", id="complex-key"),
        pytest.param(b"config:\n  null: 1\n", "a key must be a string", id="null-key"),
        pytest.param(b"config:\n  1.5: 1\n", "a key must be a string", id="float-key"),
        pytest.param(b"config:\n  webhost:org: !!python/name:os.system x\n", "", id="py-tag"),
        pytest.param(b"config:\n  webhost:org: !custom x\n", "", id="custom-tag"),
        pytest.param(b"config: {webhost:org: [unclosed\n", "", id="broken"),
        pytest.param(b"config:\n\twebhost:org: x\n", "", id="tab-indent"),
        pytest.param(b"config:\n  webhost:regions: " + b"[" * 20000 + b"\n", "", id="deep"),
        pytest.param(b"x" * (stackfile.MAX_BYTES + 10), "larger than", id="huge-file"),
    ]


@pytest.mark.parametrize(("content", "expected"), _bytes_cases())
def test_stack_files_of_any_shape_exit_2_with_one_line(
    content: bytes, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_bytes(content)
    code = main(["plan", "--stack-file", str(stack)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith(f"error: {stack}")
    assert all(line.startswith("error: ") for line in err.splitlines()), err
    assert expected in err
    assert "\x1b" not in err and "\x00" not in err


def test_a_stack_file_that_is_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "Pulumi.dir.yaml"
    stack.mkdir()
    assert main(["plan", "--stack-file", str(stack)]) == 2
    assert capsys.readouterr().err == f"error: {stack}: Is a directory\n"


def test_an_unreadable_stack_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root, which reads any file: cannot make one unreadable")
    stack = tmp_path / "Pulumi.locked.yaml"
    stack.write_text(GOOD)
    stack.chmod(0)
    assert main(["plan", "--stack-file", str(stack)]) == 2
    assert capsys.readouterr().err == f"error: {stack}: Permission denied\n"


def test_a_secure_value_is_never_printed_whatever_else_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack_doc("prod") | {
        "webhost:stripeSecretKey": {"secure": SECRET_TEXT},
        "webhost:env": {"A": {"secure": SECRET_TEXT}},
        "webhost:secrets": {"bad-name": {"secure": SECRET_TEXT}},
        "webhost:vm": {"secure": SECRET_TEXT},
    }
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(yaml.safe_dump({"config": doc}))
    assert main(["plan", "--stack-file", str(stack)]) == 2
    err = capsys.readouterr().err
    assert SECRET_TEXT not in err and "Traceback" not in err
    assert "webhost:env.A:" in err and "webhost:vm:" in err and "webhost:secrets.bad-name" in err


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("zone", "a." * 126 + "example", "longer than a DNS name may be (253 characters)"),
        ("zone", "x" * 64 + ".example", "a domain name"),
        ("hosts", ["y" * 64], "a name relative to the zone"),
        ("hosts", [".".join(["z" * 60] * 4)], "makes a name longer than 253 characters"),
    ],
)
def test_dns_names_and_labels_within_their_limits(key: str, value: Any, rule: str) -> None:
    raw = dict(stackfile.load(PROJECT_FILE.parent / "Pulumi.prod.yaml", PROJECT_FILE).config)
    domain = json.loads(raw["webhost:domain"]) | {key: value}
    raw["webhost:domain"] = json.dumps(domain)
    with pytest.raises(ConfigError) as caught:
        config.parse(raw)
    assert any(
        line.startswith(f"webhost:domain.{key}") and rule in line for line in caught.value.problems
    ), caught.value.problems


# -- policy config files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe{}", "not a policy config"),
        (b"[1, 2]", "keyed by policy name"),
        (b'{"margin": "loud"}', "margin"),
        (b'{"margin": {"enforcementLevel": 3}}', "margin.enforcementLevel"),
        (b'{"margin": {"minimumMargin": "high"}}', "margin.minimumMargin"),
        (b'{"nope": "advisory"}', "nope"),
        # Past a 64-bit float: the engine's Go decoder refuses the file, so do we.
        (b'{"margin": 1e400}', "not a policy config (1e400 is out of a 64-bit float's range)"),
        (b"{" * 100000, "not a policy config"),
        (b"[" * 100000, "not a policy config"),
        (b'{"margin": {"minimumMargin": ' + b"9" * 5000 + b"}}", "not a policy config"),
    ],
)
def test_policy_config_of_any_shape_exits_2(
    content: bytes, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_bytes(content)
    code = main(["plan", "--stack", "staging", "--policy-config", str(policy)])
    _, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err
    assert all(line.startswith("error: ") for line in err.splitlines()), err
    assert expected in err


# -- libyaml reads what the pure loader reads -----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        *(
            (ROOT / name).read_text()
            for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml")
        ),
        "config:\n  webhost:day: 2026-01-01\n  webhost:n: " + "9" * 5000 + "\n",
        "config:\n  a: [1, {b: c}]\n  c: 'x'\n  d: 1.5e3\n  e: .inf\n  f: ~\n  g: yes\n  h: 0x1f\n",
        "config:\n  a: 1\n  a: 2\n",
        "config:\n  ? [1]\n  : x\n",
    ],
    ids=["project", "staging", "prod", "date-and-long-number", "scalars", "duplicate", "list-key"],
)
def test_libyaml_reads_a_file_as_the_pure_loader_does(text: str) -> None:
    def read(loader: Any) -> Any:
        try:
            return yaml.load(text, Loader=loader)
        except yaml.MarkedYAMLError as exc:  # what the error line shows of it
            mark = exc.problem_mark
            return exc.problem, mark and (mark.line, mark.column)

    assert stackfile._plain(text)
    assert read(stackfile._FastLoader) == read(stackfile._StrictLoader)


@pytest.mark.parametrize(
    "text", ["a: &x 1\nb: *x\n", "a: &x 1\n", "a: " + "[" * 50 + "]" * 50 + "\n", "a: \x1b\n"]
)
def test_what_only_the_pure_loader_refuses_goes_to_it(text: str) -> None:
    assert not stackfile._plain(text)
