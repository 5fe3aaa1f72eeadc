"""No credential in anything the hub prints, logs, stores or reports.

Every command runs through CliRunner against served sandboxes that accept only
recognisable fake credentials (``sk-FAKE/<system>-<setting>+<random>``). Then
stdout and stderr, every log record (every logger, DEBUG), every column of every
row of every table of the state store and every report file are searched for
each credential: as it is, its random part, URL-encoded, and base64 at any byte
alignment (so ``base64(email:token)`` of basic auth is caught too). A rejected
credential must give an auth error naming the system and the setting, never
the value.

Left out: ``hub sandbox serve`` prints its sandbox-only credentials on purpose,
``hub demo`` runs on sandboxes whose credentials it makes itself, and ``hub
serve`` is a long-running webhook receiver (tests/webhooks). ``hub run`` and the
Prefect artifacts and logs: tests/flows/test_secrets_in_flows.py, which reuses
the helpers here.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import MetaData, create_engine
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.sandboxes.kit import Sandbox
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

PAIRS = [("salesforce", "jira"), ("hubspot", "asana")]  # every connector once
# Where each sandbox keeps the credential it accepts, by connector setting.
_ACCEPTED = {
    "salesforce": ("issuer", {}),
    "hubspot": ("issuer", {}),
    "jira": ("", {"api_token": "_token"}),
    "asana": ("auth", {"access_token": "pat"}),
}
NOT_SECRET = {"email"}  # Jira's account e-mail is a user name
STORE_TABLES = ("links", "runs", "audit_events", "dead_letters", "cursors")

runner = CliRunner()


# Scanning ----------------------------------------------------------------------------


def fake_credential(label: str) -> str:
    """A credential nobody could mistake: ``sk-FAKE/<label>+<24 random hex digits>``."""
    return f"sk-FAKE/{label}+{secrets.token_hex(12)}"


def encoded_forms(value: str) -> dict[str, str]:
    """``value`` in every form it could leak in, by name of the form."""
    raw = value.encode()
    forms = {
        "as is": value,
        "random part": value.rsplit("+", 1)[-1],
        "url-encoded": quote(value, safe=""),
        "form-encoded": quote_plus(value),
    }
    for shift in range(3):
        # The characters of base64(prefix + value) that only depend on value.
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        core = encoded[4 if shift else 0 : len(encoded) - 4]
        forms[f"base64 at offset {shift}"] = core
        forms[f"base64url at offset {shift}"] = core.replace("+", "-").replace("/", "_")
    return forms


@dataclass
class SecretScan:
    """Searches texts for any form of any secret."""

    secrets: Mapping[str, str]
    needles: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        assert self.secrets, "nothing to look for"
        self.needles = {
            f"{label} ({form})": text
            for label, value in self.secrets.items()
            for form, text in encoded_forms(value).items()
        }

    def leaks(self, sources: Mapping[str, str]) -> list[str]:
        """``"<secret> (<form>) in <source>"`` for every hit; line wraps do not hide one."""
        found = []
        for where, text in sources.items():
            squeezed = "".join(text.split())
            found += [
                f"{name} in {where}"
                for name, needle in self.needles.items()
                if needle in text or needle in squeezed
            ]
        return found

    def check(self, sources: Mapping[str, str]) -> None:
        """Fail, listing every leak, if any source holds a secret."""
        leaks = self.leaks(sources)
        assert not leaks, "secrets leaked:\n" + "\n".join(leaks)


@contextmanager
def capture_all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every logger at DEBUG, every record into ``caplog``.

    Loggers that do not propagate to the root (Prefect's, uvicorn's) get the
    capture too. Console handlers other than pytest's are set aside meanwhile:
    at DEBUG they would write, and Prefect's may hold a stream that a CliRunner
    has since closed, whose "Logging error" would land in a command's output.
    """
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    saved: list[tuple[logging.Logger, list[logging.Handler]]] = []
    for item in loggers:
        if not isinstance(item, logging.Logger):
            continue
        if item is not logging.root:
            caplog.set_level(logging.DEBUG, logger=item.name)
        if item.handlers or not item.propagate:
            saved.append((item, item.handlers))
            kept = [h for h in item.handlers if not _console(h)]
            item.handlers = kept if item.propagate else [*kept, caplog.handler]
    try:
        yield
    finally:
        for logger, handlers in saved:
            logger.handlers = handlers


def _console(handler: logging.Handler) -> bool:
    own = type(handler).__module__.startswith("_pytest")
    return isinstance(handler, logging.StreamHandler) and not own


def log_text(records: Sequence[logging.LogRecord]) -> str:
    """Each record's message, traceback and every attribute (extras included)."""
    formatter = logging.Formatter()
    parts = []
    for record in records:
        try:
            parts.append(record.getMessage())
        except (TypeError, ValueError):
            parts.append(repr(record.msg))
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        parts.append(repr(vars(record)))
    return "\n".join(parts)


def store_rows(url: str) -> dict[str, str]:
    """Every column of every row of every table of the store, as text, by table."""
    engine = create_engine(url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.connect() as conn:
            return {
                f"store table {table.name}": "\n".join(
                    repr(tuple(row)) for row in conn.execute(table.select())
                )
                for table in tables.sorted_tables
            }
    finally:
        engine.dispose()


def test_the_scan_finds_a_credential_in_any_form() -> None:
    value = fake_credential("crm-client_secret")
    scan = SecretScan({"crm.client_secret": value})
    basic = base64.b64encode(f"api@example.com:{value}".encode()).decode()
    hidden = {
        "as is": f"client_secret={value}&grant_type=client_credentials",
        "wrapped by a terminal": f"error: {value[:12]}\n   {value[12:]}",
        "basic auth": f"Authorization: Basic {basic}",
        "in a URL": "https://x.example.com/cb?token=" + quote(value, safe=""),
        "in a form": "secret=" + quote_plus(value),
        "shortened": "token ..." + value[-24:],
        "base64url at an odd offset": base64.urlsafe_b64encode(b"ab" + value.encode()).decode(),
    }
    for name, text in hidden.items():
        assert scan.leaks({name: text}) != [], name
    assert scan.leaks({"clean": "client_secret=*** sk-FAKE/crm-client_secret+***"}) == []


# The world: sandboxes that accept fake credentials, and a hub config for them ------------


def accept_fake_credentials(sandbox: Sandbox, system: str) -> dict[str, str]:
    """Make ``sandbox`` accept new fake credentials only; return them by setting."""
    holder_name, attributes = _ACCEPTED[sandbox.name]
    holder = getattr(sandbox, holder_name) if holder_name else sandbox
    fakes = {
        setting: fake_credential(f"{system}-{setting}")
        for setting in sandbox.credentials
        if setting not in NOT_SECRET
    }
    for setting, value in fakes.items():
        setattr(holder, attributes.get(setting, setting), value)
    assert {k: v for k, v in sandbox.credentials.items() if k in fakes} == fakes
    return fakes


@dataclass
class World:
    """Served sandboxes of one pairing, with fake credentials, and the hub config for them."""

    config: Path
    folder: Path
    sandboxes: dict[str, RunningSandbox]
    secrets: dict[str, str]
    env: dict[str, str]
    """The variable holding each credential, by ``system.setting``."""

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.folder / 'state.db'}"


def open_world(crm: str, pm: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """Serve the pairing's sandboxes with fake credentials and write the hub config.

    A won deal with its amount in words (changed behind the API's back) gives
    the runs a dead letter to keep.
    """
    served = {
        crm: serve_in_thread(make_sandbox(crm, seed=4, records=12)),
        pm: serve_in_thread(make_sandbox(pm, seed=4, records=6)),
    }
    found: dict[str, str] = {}
    prefix = f"HUB_SECRETS_{crm}_{pm}".upper()
    env: dict[str, str] = {}
    for system, name in (("crm", crm), ("pm", pm)):
        sandbox = served[name].sandbox
        for setting, value in accept_fake_credentials(sandbox, system).items():
            found[f"{system}.{setting}"] = value
        for setting in sandbox.credentials:
            env[f"{system}.{setting}"] = var = f"{prefix}_{system}_{setting}".upper()
            monkeypatch.setenv(var, "replaced by write_sandbox_config")
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(example_for(crm, pm), folder, targets, env_prefix=prefix)
    _plant_bad_deal(served[crm].sandbox)
    return World(config, folder, served, found, env)


def _plant_bad_deal(sandbox: Sandbox) -> None:
    state: Any = getattr(sandbox, "state")  # noqa: B009 - the sandboxes' test helpers
    if sandbox.name == "salesforce":
        record = state.add_opportunity("Deal with its amount in words", stage="Closed Won")
        with state.store.lock:
            state.store.lookup(record)[1]["Amount"] = "twelve thousand"
    else:
        record = state.add_deal("Deal with its amount in words", stage=state.won_stage())
        with state.store.lock:
            state.store.tables["deals"][record].props["amount"] = "twelve thousand"


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    found = open_world(*request.param, tmp_path, monkeypatch)
    yield found
    for running in found.sandboxes.values():
        running.stop()


def run_every_handoff(config: Path) -> None:
    """Each handoff once, as ``hub run`` does but without Prefect: runs, links, letters."""
    from handoff_hub.hub.config.loading import load_config
    from handoff_hub.hub.handoffs.catalogue import build_handoff
    from handoff_hub.hub.handoffs.runner import run_handoff
    from handoff_hub.hub.registry import known_connectors
    from handoff_hub.hub.runtime import open_runtime

    runtime = open_runtime(load_config(config, known_connectors=known_connectors()))
    try:
        for name in ("won-to-project", "risk-to-account-manager", "feedback-to-lead", "sync"):
            run_handoff(name, build_handoff(runtime, name), runtime.store)
    finally:
        runtime.close()


def first_account(world: World) -> str:
    """The CRM id of a customer, for ``hub account``."""
    crm = next(iter(world.sandboxes.values())).sandbox
    state: Any = getattr(crm, "state")  # noqa: B009
    ids: list[str] = state.ids("Account" if crm.name == "salesforce" else "companies")
    return ids[0]


# Every command -------------------------------------------------------------------------


@dataclass
class Session:
    """Runs commands and keeps everything they printed."""

    config: Path
    outputs: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "-c", str(self.config)], env={"COLUMNS": "250"})
        label = "hub " + " ".join(args)
        assert result.exit_code == code, f"{label}: exit {result.exit_code}\n{result.output}"
        assert "Traceback" not in result.output, result.output
        self.outputs[f"output of {label}"] = result.output
        return result.output


def test_no_command_shows_stores_or_logs_a_credential(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = Session(world.config)
    reports = tmp_path / "reports"
    reports.mkdir()
    with capture_all_logs(caplog):
        _run_every_command(hub, world, reports)

    rows = store_rows(world.store_url)
    for table in STORE_TABLES:
        assert rows[f"store table {table}"], f"nothing in {table}: the scan would prove nothing"
    files = {f"report {p.name}": p.read_text(encoding="utf-8") for p in reports.iterdir()}
    assert len(files) == 6 and all(files.values())
    assert caplog.records, "no log record was captured"
    SecretScan(world.secrets).check(
        {**hub.outputs, "logs": log_text(caplog.records), **rows, **files}
    )


def _run_every_command(hub: Session, world: World, reports: Path) -> None:
    hub.run("validate")
    hub.run("plan")
    run_every_handoff(world.config)
    hub.run("reconcile", "--fix")
    hub.run("reconcile", "--format", "json")
    for fmt in ("json", "csv", "md", "html"):
        hub.run("reconcile", "-o", str(reports / f"reconcile.{fmt}"))
    hub.run("kpis")
    for fmt in ("json", "html"):
        hub.run("kpis", "-o", str(reports / f"kpis.{fmt}"))
    account = first_account(world)
    hub.run("account", account)
    hub.run("account", account, "--json")
    history = json.loads(hub.run("history", "--json"))
    hub.run("history")
    hub.run("history", "--run", history["runs"][0]["id"][:8])
    hub.run("history", "--record", history["events"][0]["record_id"])
    letters = json.loads(hub.run("deadletters", "list", "--json"))
    assert letters, "the bad deal should have been dead-lettered"
    hub.run("deadletters", "list", "--status", "all")
    hub.run("deadletters", "show", str(letters[0]["id"]))
    hub.run("deadletters", "show", str(letters[0]["id"]), "--json")
    hub.run("deadletters", "replay", "--all", code=1)  # the deal is still bad
    hub.run("deadletters", "discard", str(letters[0]["id"]), "--reason", "test deal")
    hub.run("db", "current")
    hub.run("db", "upgrade")
    hub.run("db", "upgrade", "--sql")
    hub.run("deploy", "--print")
    hub.run("deploy", "--print", "--json")


# A rejected credential -------------------------------------------------------------------

WRONG = [
    ("salesforce", "jira", "crm", "client_secret"),
    ("salesforce", "jira", "pm", "api_token"),
    ("hubspot", "asana", "crm", "access_token"),
    ("hubspot", "asana", "pm", "access_token"),
]


@pytest.mark.parametrize(
    ("crm", "pm", "system", "setting"), WRONG, ids=[f"{w[0]}+{w[1]}:{w[2]}" for w in WRONG]
)
def test_a_rejected_credential_names_the_system_and_setting_not_the_value(
    crm: str,
    pm: str,
    system: str,
    setting: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = open_world(crm, pm, tmp_path, monkeypatch)
    try:
        wrong = fake_credential(f"wrong-{system}-{setting}")
        monkeypatch.setenv(world.env[f"{system}.{setting}"], wrong)
        with capture_all_logs(caplog):
            output = Session(world.config).run("plan", code=1)
    finally:
        for running in world.sandboxes.values():
            running.stop()

    flat = " ".join(output.split())
    assert "error:" in flat and f"{system}: " in flat, flat
    assert "credentials were rejected" in flat or "refused" in flat, flat
    assert f"systems.{system}.credentials" in flat and setting in flat, flat
    SecretScan({"wrong": wrong, **world.secrets}).check(
        {"output": output, "logs": log_text(caplog.records)}
    )
