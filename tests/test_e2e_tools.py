"""The pieces `make e2e` runs besides the engine: the command/random stand-ins (over
their gRPC boundary, as the engine calls them), the driver's write classifiers,
the bench's longest-chain figure, and the build script's version source."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2

from tests.fakeprovider_client import served

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = ROOT / "tools" / "providers"
COMMAND_URN = "urn:pulumi:e2e::webhost::command:local:Command::job"
PASSWORD_URN = "urn:pulumi:e2e::webhost::random:index/randomPassword:RandomPassword::pw"
# sdk/go/common/resource/plugin/rpc.go UnknownStringValue
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def plain(value: struct_pb2.Struct) -> dict[str, Any]:
    from google.protobuf import json_format

    result: dict[str, Any] = json_format.MessageToDict(value)
    return result


def plugin(script: str, tmp_path: Path, stdin: str = "", **env: str) -> Iterator[Any]:
    with served(
        [sys.executable, str(PROVIDERS / script)],
        cwd=tmp_path,
        env={**os.environ, "STANDIN_VERSION": "9.9.9", **env},
        stdin=stdin,
    ) as stub:
        yield stub


# One plugin process per module: the stand-ins keep nothing between calls (each
# request carries its inputs), and starting one costs a Python with grpc imported.
@pytest.fixture(scope="module")
def command(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    directory = tmp_path_factory.mktemp("command")
    yield from plugin("command_provider.py", directory, STANDIN_TIMING_LOG=str(directory / "t"))


@pytest.fixture(scope="module")
def password(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from plugin("random_provider.py", tmp_path_factory.mktemp("password"))


def create(stub: Any, urn: str, props: dict[str, Any], preview: bool = False) -> Any:
    return stub.Create(
        provider_pb2.CreateRequest(urn=urn, properties=struct(props), preview=preview)
    )


def test_command_create_runs_in_its_environment_and_trims_one_newline(command: Any) -> None:
    done = create(
        command,
        COMMAND_URN,
        {
            "create": 'printf "%s\\n\\n" "$GREETING"; echo err >&2',
            "interpreter": ["/bin/bash", "-c"],
            "environment": {"GREETING": "hello"},
        },
    )
    outs = plain(done.properties)
    assert outs["stdout"] == "hello\n"
    assert outs["stderr"] == "err"
    assert done.id.startswith("job")


def test_command_preview_runs_nothing_and_leaves_stdout_unknown(
    command: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    done = create(command, COMMAND_URN, {"create": f"touch {marker}"}, preview=True)
    assert not marker.exists()
    assert plain(done.properties)["stdout"] == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_command_update_runs_create_when_there_is_no_update_script(command: Any) -> None:
    olds = {"create": "echo one", "stdout": "one", "stderr": ""}
    news = {"create": "echo two:$PULUMI_COMMAND_STDOUT"}
    done = command.Update(
        provider_pb2.UpdateRequest(urn=COMMAND_URN, olds=struct(olds), news=struct(news))
    )
    assert plain(done.properties)["stdout"] == "two:one"
    news["addPreviousOutputInEnv"] = False  # type: ignore[assignment]
    done = command.Update(
        provider_pb2.UpdateRequest(urn=COMMAND_URN, olds=struct(olds), news=struct(news))
    )
    assert plain(done.properties)["stdout"] == "two:"


def failure(stub: Any, props: dict[str, Any]) -> str:
    with pytest.raises(grpc.RpcError) as raised:
        create(stub, COMMAND_URN, props)
    return str(raised.value.details())


def test_command_failure_is_the_real_providers_error(command: Any) -> None:
    # local/commandOutputs.go run: fmt.Errorf("%w: running %q:\n%s", err, command, output)
    assert failure(command, {"create": "echo nope >&2; exit 3"}) == (
        'exit status 3: running "echo nope >&2; exit 3":\nnope\n'
    )


def test_command_failure_quotes_the_script_as_go_does(command: Any) -> None:
    # strconv.Quote: \" \\ and \n \t escaped, printable Unicode kept, controls as \x..
    # and non-printable runes as \u.... (as go1.26 `fmt.Printf("%q")` prints it)
    script = "printf '%s\\n' \"é\tz\\\\\" # \x01\u00a0\nexit 2"
    assert failure(command, {"create": script}).splitlines()[0] == (
        'exit status 2: running "printf \'%s\\\\n\' \\"é\\tz\\\\\\\\\\" # \\x01\\u00a0\\nexit 2":'
    )


def test_command_failure_carries_both_streams_interleaved(command: Any) -> None:
    details = failure(
        command, {"create": "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 1"}
    )
    header, _, output = details.partition("\n")
    assert header.startswith("exit status 1: running ")
    lines = output.splitlines()
    # one buffer both pipes write into (stdouterrbuf): each stream keeps its own order
    assert sorted(lines) == ["err1", "err2", "out1", "out2"]
    assert lines.index("out1") < lines.index("out2")
    assert lines.index("err1") < lines.index("err2")


def test_command_failure_names_a_signal_and_an_interpreter_that_cannot_start(
    command: Any,
) -> None:
    # os.ProcessState.String and os.StartProcess's errors, as os/exec words them
    assert failure(command, {"create": "kill -TERM $$"}) == (
        'signal: terminated: running "kill -TERM $$":\n'
    )
    assert failure(command, {"create": "true", "interpreter": ["/nonexistent/sh", "-c"]}) == (
        'fork/exec /nonexistent/sh: no such file or directory: running "true":\n'
    )
    assert failure(command, {"create": "true", "interpreter": ["no-such-shell", "-c"]}) == (
        'exec: "no-such-shell": executable file not found in $PATH: running "true":\n'
    )


@pytest.fixture
def engine_started(tmp_path: Path) -> Iterator[Any]:
    """The stand-in with bytes waiting on the stdin pipe the engine holds open."""
    yield from plugin("command_provider.py", tmp_path, stdin="engine-bytes")


def test_command_without_stdin_reads_nothing(engine_started: Any) -> None:
    # commandOutputs.go sets cmd.Stdin only for a non-empty `stdin`; os/exec gives a
    # nil Stdin /dev/null: a script never reads the engine's pipe to the provider.
    done = create(engine_started, COMMAND_URN, {"create": "head -c 6"})
    assert plain(done.properties)["stdout"] == ""
    done = create(engine_started, COMMAND_URN, {"create": "cat", "stdin": "given"})
    assert plain(done.properties)["stdout"] == "given"


def preview_update(stub: Any, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    done = stub.Update(
        provider_pb2.UpdateRequest(
            urn=COMMAND_URN, olds=struct(olds), news=struct(news), preview=True
        )
    )
    return plain(done.properties)


def test_command_update_preview_leaves_outputs_unknown(command: Any, tmp_path: Path) -> None:
    # infer/resource.go markComputed, in preview of an update: every output depends on
    # every input; one that differs from the old state, or is unknown, makes the
    # outputs that mirror no input unknown.
    marker = tmp_path / "ran"
    olds = {
        "create": f"touch {marker}; echo a",
        "environment": {"A": "1"},
        "stdout": "a",
        "stderr": "w",
    }
    news = {"create": olds["create"], "environment": {"A": "2"}}
    outs = preview_update(command, olds, news)
    assert (outs["stdout"], outs["stderr"]) == (UNKNOWN, UNKNOWN)
    assert outs["environment"] == {"A": "2"} and outs["create"] == olds["create"]
    unknown = preview_update(command, olds, {**news, "environment": {"A": UNKNOWN}})
    assert unknown["stdout"] == UNKNOWN
    assert not marker.exists()


def test_command_update_preview_keeps_outputs_when_no_old_input_changed(command: Any) -> None:
    # markComputed compares only the inputs the old state holds: one added anew (known)
    # leaves the old outputs as they were.
    olds = {"create": "echo a", "stdout": "a", "stderr": ""}
    outs = preview_update(command, olds, {"create": "echo a", "dir": "/tmp"})
    assert (outs["stdout"], outs["stderr"]) == ("a", "")
    assert preview_update(command, olds, {"create": "echo a", "dir": UNKNOWN})["stdout"] == UNKNOWN


def test_command_delete_runs_the_delete_script(command: Any, tmp_path: Path) -> None:
    marker = tmp_path / "deleted"
    command.Delete(
        provider_pb2.DeleteRequest(
            urn=COMMAND_URN, id="job1", properties=struct({"delete": f"touch {marker}"})
        )
    )
    assert marker.exists()


def test_command_triggers_replace_other_changes_update(command: Any) -> None:
    olds = {"create": "echo a", "triggers": ["1"]}

    def diff(news: dict[str, Any]) -> Any:
        return command.Diff(
            provider_pb2.DiffRequest(
                urn=COMMAND_URN,
                id="x",
                olds=struct(olds),
                old_inputs=struct(olds),
                news=struct(news),
            )
        )

    assert diff(dict(olds)).changes == provider_pb2.DiffResponse.DIFF_NONE
    update = diff({**olds, "create": "echo b"})
    assert (list(update.diffs), list(update.replaces)) == (["create"], [])
    replace = diff({**olds, "triggers": ["2"]})
    assert list(replace.replaces) == ["triggers"]


def test_command_check_names_a_bad_logging_value(command: Any) -> None:
    done = command.Check(
        provider_pb2.CheckRequest(urn=COMMAND_URN, news=struct({"logging": "everything"}))
    )
    assert [f.property for f in done.failures] == ["logging"]


def test_password_defaults_length_and_classes(password: Any) -> None:
    checked = password.Check(
        provider_pb2.CheckRequest(urn=PASSWORD_URN, news=struct({"length": 24, "special": False}))
    )
    inputs = plain(checked.inputs)
    assert inputs["upper"] is True and inputs["special"] is False
    result = plain(create(password, PASSWORD_URN, inputs).properties)["result"]
    assert len(result) == 24 and result.isalnum()
    bad = password.Check(provider_pb2.CheckRequest(urn=PASSWORD_URN, news=struct({})))
    assert [f.property for f in bad.failures] == ["length"]


def test_password_any_change_replaces(password: Any) -> None:
    olds = {"length": 24, "special": False}
    done = password.Diff(
        provider_pb2.DiffRequest(
            urn=PASSWORD_URN,
            id="none",
            old_inputs=struct(olds),
            news=struct({**olds, "length": 32}),
        )
    )
    assert list(done.replaces) == ["length"]


def test_driver_classifies_writes() -> None:
    run = load(ROOT / "e2e" / "run.py", "e2e_run")
    assert not run.is_fly_write(["machine", "list", "--json", "-a", "x"])
    assert not run.is_fly_write(["secrets", "list", "-a", "x"])
    assert run.is_fly_write(["deploy", "-a", "x", "--image", "y"])
    assert run.is_fly_write(["scale", "count", "2", "-r", "iad"])
    assert not run.is_api_write("GET", None)
    assert not run.is_api_write("POST", {"query": "query { app { id } }"})
    assert run.is_api_write("POST", {"query": "mutation { x }"})
    assert run.is_api_write("DELETE", None)


def test_driver_counts_a_skipped_phase_apart_from_the_passed_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = load(ROOT / "e2e" / "run.py", "e2e_run")
    api = SimpleNamespace(state=SimpleNamespace(requests=[]))
    s = run.Stack("staging", tmp_path, api, {}, tmp_path / "fly.json", tmp_path / "fly.log")
    with s.phase("up"):
        pass
    with s.phase("origin"):
        raise run.Skipped("certificate origin needs a proxied domain")
    with (
        pytest.raises(run.Failure, match="staging: phase drift: not put back"),
        s.phase("drift"),
    ):
        raise run.Failure("not put back")
    assert s.passed == ["up"]
    assert "origin   skipped: certificate origin needs a proxied domain" in capsys.readouterr().out


def test_no_module_of_the_e2e_imports_one_that_imports_it_back() -> None:
    """e2e/run.py runs as __main__: a module importing it would load a second copy (a
    second Failure its phase loop does not catch). Nothing imports it, and the modules
    of e2e/ import one another without a circle."""
    import ast

    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / "e2e").glob("*.py")):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            imported |= {n.removeprefix("e2e.") for n in names if n.startswith("e2e.")}
        graph[path.stem] = imported & {p.stem for p in (ROOT / "e2e").glob("*.py")}
    assert not [m for m, deps in graph.items() if "run" in deps]

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            d == goal or (d not in seen and reaches(d, goal, seen | {d})) for d in graph[start]
        )

    assert not [m for m in graph if reaches(m, m, {m})]


def test_longest_chain_weighs_dependencies_and_waits_for_components() -> None:
    sys.path.insert(0, str(ROOT / "e2e"))
    bench = load(ROOT / "bench" / "engine.py", "bench_engine")
    resources = [
        {"urn": "comp", "custom": False},
        {"urn": "a", "custom": True, "parent": "comp"},
        {"urn": "b", "custom": True, "parent": "comp", "dependencies": ["a"]},
        {"urn": "c", "custom": True, "propertyDependencies": {"x": ["comp"]}},
        {"urn": "d", "custom": True},
    ]
    weight = {"a": 2.0, "b": 3.0, "c": 1.0, "d": 4.0}
    # c waits for the component, which finishes with b (a then b): 2 + 3 + 1.
    assert bench.longest_chain(resources, weight) == pytest.approx(6.0)


def test_build_reads_every_version_from_the_lock(tmp_path: Path) -> None:
    script = (ROOT / "tools" / "build-engine.sh").read_text()
    for package in ("pulumi", "pulumi-command", "pulumi-random"):
        assert f"lock_version {package})" in script
    lock = (ROOT / "requirements.lock").read_text()
    probe = subprocess.run(
        [
            "bash",
            "-c",
            'eval "$(sed -n "/^lock_version()/,/^}/p" tools/build-engine.sh)"; '
            "lock_version pulumi; lock_version no-such-package",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.stdout.split()[0] in lock
    assert probe.returncode == 1
    assert "no-such-package is not pinned in requirements.lock" in probe.stderr


def test_policy_reads_a_spec_whose_counts_came_through_the_engine_as_doubles() -> None:
    # The engine carries every number as a double (google.protobuf.Value), so the
    # pack sees `iad: 1.0` where the program declared 1 (found by `make e2e`).
    from cli import stackfile
    from components import config
    from policies import spec as policy_spec
    from tests.conftest import PROJECT_FILE

    loaded = stackfile.load(ROOT / "Pulumi.prod.yaml", PROJECT_FILE)
    parsed = config.parse(loaded.config, loaded.secret_keys)
    document = parsed.model_dump(mode="json", by_alias=True, exclude=parsed.secret_field_names())
    doubled = json.loads(json.dumps(document), parse_int=float)

    platform = SimpleNamespace(name="webhost", props={"spec": doubled})
    read = policy_spec.stack_config(platform)  # type: ignore[arg-type]
    assert read.regions == parsed.regions
    assert all(type(count) is int for count in read.regions.values())


def test_certificate_check_refresh_sees_an_issued_certificate(fly_api: Any) -> None:
    # `pulumi refresh` calls read, which mocks never do: it read the certificate
    # through a shape without `certificates`, so an issued one read as not issued
    # and every refresh proposed an update (found by `make e2e`).
    from components.fly.api import FlyClient
    from components.fly.providers.certificate_check import CertificateCheckProvider

    fly_api.state.add_app("webhost-e2e", "webhost-systems")
    client = FlyClient()
    client.request_certificate("webhost-e2e", "www.webhost.example")
    client.check_certificate("webhost-e2e", "www.webhost.example")
    props = {
        "app": "webhost-e2e",
        "hostname": "www.webhost.example",
        "proxied": False,
        "timeout_seconds": 0,
        "interval_seconds": 0,
        "on_timeout": "fail",
        "records": [],
    }
    read = CertificateCheckProvider().read("webhost-e2e/www.webhost.example", props)
    assert read.outs is not None
    assert read.outs["issued"] is True
    assert read.outs["missing"] == []
    assert read.outs["issuer"] == "lets_encrypt"


# -- the program's scripts fail with the real provider's error, which holds no secret ----


@pytest.mark.parametrize(
    ("name", "fault", "user"),
    [
        # the cluster is created (its operator password printed), the listing after fails
        ("webhost-db", {"FAKE_FLY_FAIL": "machine list"}, "postgres"),
        # the attach succeeds (the URL printed), removing its scratch secret fails
        ("webhost-db-attach", {"FAKE_FLY_FAIL_NTH": "secrets unset:2"}, "webhost_prod"),
    ],
)
def test_a_failed_scripts_error_holds_no_credential(
    commands: dict[str, dict[str, Any]],
    fake_fly: Any,
    tmp_path: Path,
    name: str,
    fault: dict[str, str],
    user: str,
) -> None:
    """The program's command, as it registers it (the session's prod evaluation,
    tests/conftest.py `commands`, which no test changes), run by the stand-in under the fake
    `fly`: the step's error (the exit status, the Go-quoted script and both streams,
    what `pulumi up` prints) holds no password flyctl printed."""
    inputs = commands[name]
    fake_fly.seed_app("webhost-prod")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = fake_fly.env(TMPDIR=str(scratch))
    with served(
        [sys.executable, str(PROVIDERS / "command_provider.py")],
        cwd=tmp_path,
        env={**os.environ, **env, "STANDIN_VERSION": "9.9.9"},
    ) as stub:
        if name != "webhost-db":
            create(stub, COMMAND_URN, commands["webhost-db"])
        with pytest.raises(grpc.RpcError) as raised:
            create(stub, COMMAND_URN, {**inputs, "environment": {**inputs["environment"], **fault}})
    details = str(raised.value.details())
    quoted = command_quote(inputs["create"])
    assert details.startswith(f"exit status 1: running {quoted}:\n")
    password = fake_fly.cluster("webhost-prod-db")["users"][user]
    assert password and password not in details


def command_quote(script: str) -> str:
    module = load(PROVIDERS / "command_provider.py", "command_provider")
    quoted: str = module.go_quote(script)
    return quoted
