"""The connector contract suite: the same checks for every connector.

Run it for a connector by defining a ``contract_case`` fixture that returns the
connector's :class:`~sandboxes.kit.contract.ContractCase` and importing these tests into
a test module::

    # tests/test_contract.py of a third-party connector package
    import pytest
    from handoff_hub.sandboxes.kit.contract_suite import *  # noqa: F403

    @pytest.fixture
    def contract_case():
        return my_connector.contract.contract_case()

The hub's own suite (tests/contract) parametrizes ``contract_case`` over every
factory registered under the ``handoff_hub.contract`` entry-point group. Every
test runs twice, against the sandbox's default org and its ``hard`` profile
(``contract_profile``), whose every switch is on: a connector that holds only
where the sandbox is kind fails there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from handoff_hub.hub.connector import Connector, RecordEnvelope
from handoff_hub.hub.errors import AuthError
from handoff_hub.sandboxes.kit import Faults, Sandbox
from handoff_hub.sandboxes.kit.contract import ContractCase, build_connector
from handoff_hub.sandboxes.kit.profile import DEFAULT, HARD

__all__ = [
    "contract_connector",
    "contract_profile",
    "contract_sandbox",
    "test_5xx_then_success",
    "test_401_is_an_auth_error",
    "test_404_leaves_out_reads_and_refuses_updates",
    "test_429_then_success",
    "test_batch_create_and_update_cross_batches",
    "test_paging_across_several_pages",
    "test_read_by_ids",
    "test_read_since_cursor",
    "test_search_by_stamped_id",
]


@pytest.fixture(params=[DEFAULT, HARD])
def contract_profile(request: pytest.FixtureRequest) -> str:
    """The org profile the sandbox plays: its default org, then the hard one."""
    return str(request.param)


@pytest.fixture
def contract_sandbox(contract_case: ContractCase, contract_profile: str) -> Sandbox:
    """A freshly seeded sandbox for the case, playing ``contract_profile``."""
    return contract_case.make_sandbox(7, 20, Faults(), contract_profile)


@pytest.fixture
def contract_connector(
    contract_case: ContractCase, contract_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Connector]:
    """The case's connector, talking to the sandbox in-process."""
    connector = build_connector(contract_case, contract_sandbox, setenv=monkeypatch.setenv)
    yield connector
    connector.close()


def _stamp() -> str:
    return f"hh-contract-{uuid.uuid4().hex[:12]}"


def _create(case: ContractCase, connector: Connector, count: int, start: int = 0) -> list[str]:
    """Create ``count`` stamped records; return their ids (every create must succeed)."""
    records = [case.new_record(start + n, _stamp()) for n in range(count)]
    results = connector.create(case.object_name, records)
    assert [r.index for r in results] == list(range(count))
    failed = [r for r in results if not r.ok]
    assert not failed, failed[:3]
    ids = [r.id for r in results]
    assert all(ids) and len(set(ids)) == count
    return [str(i) for i in ids]


def _read_all(
    case: ContractCase, connector: Connector, since: str | None, page_size: int | None = None
) -> tuple[list[list[RecordEnvelope]], str | None]:
    pages: list[list[RecordEnvelope]] = []
    cursor = since
    for page in connector.read_changes(
        case.object_name,
        since=since,
        fields=case.fields,
        where=case.where,
        page_size=page_size,
    ):
        pages.append(page.records)
        cursor = page.cursor or cursor
    return pages, cursor


def _ids(pages: list[list[RecordEnvelope]]) -> list[str]:
    return [r.id for page in pages for r in page]


def test_read_since_cursor(contract_case: ContractCase, contract_connector: Connector) -> None:
    """Records changed after the cursor come back on the next read; a cursor only moves on."""
    pages, cursor = _read_all(contract_case, contract_connector, None)
    assert cursor is not None, "a first read of seeded data must return a cursor"
    new = _create(contract_case, contract_connector, 3)
    later, later_cursor = _read_all(contract_case, contract_connector, cursor)
    assert set(new) <= set(_ids(later))
    assert later_cursor is not None and later_cursor >= cursor
    seen = set(_ids(pages))
    assert len(set(_ids(later)) - set(new) - seen) == 0, "a cursor read returned unknown records"


def test_read_by_ids(contract_case: ContractCase, contract_connector: Connector) -> None:
    """Reading by id returns exactly the records that exist, with the requested fields."""
    new = _create(contract_case, contract_connector, 2)
    found = contract_connector.read_by_ids(
        contract_case.object_name, [*new, contract_case.missing_id], fields=contract_case.fields
    )
    assert sorted(r.id for r in found) == sorted(new)
    assert all(r.raw for r in found)


def test_search_by_stamped_id(contract_case: ContractCase, contract_connector: Connector) -> None:
    """A record stamped with the hub's id is found by it; an unknown stamp is left out."""
    stamps = [_stamp(), _stamp()]
    records = [contract_case.new_record(n, s) for n, s in enumerate(stamps)]
    results = contract_connector.create(contract_case.object_name, records)
    assert all(r.ok for r in results), results
    absent = _stamp()
    found = contract_connector.find_by_external_id(
        contract_case.object_name, contract_case.external_id_field, [*stamps, absent]
    )
    assert found == {stamps[0]: results[0].id, stamps[1]: results[1].id}


def test_batch_create_and_update_cross_batches(
    contract_case: ContractCase, contract_connector: Connector, contract_sandbox: Sandbox
) -> None:
    """More records than one batch holds: every one is created, then updated, in order."""
    count = contract_case.batch_size + 3
    before = len(contract_sandbox.journal.requests())
    ids = _create(contract_case, contract_connector, count)
    sent = len(contract_sandbox.journal.requests()) - before
    assert sent >= 2, "expected several batch calls"
    assert sent < count, "expected batch calls"
    updates = [(record_id, contract_case.change(n)) for n, record_id in enumerate(ids)]
    results = contract_connector.update(contract_case.object_name, updates)
    assert [r.index for r in results] == list(range(count))
    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
    read = {
        r.id: r.raw
        for r in contract_connector.read_by_ids(
            contract_case.object_name, ids, fields=contract_case.fields
        )
    }
    assert all(contract_case.changed(read[record_id], n) for n, record_id in enumerate(ids))


def test_paging_across_several_pages(
    contract_case: ContractCase, contract_connector: Connector
) -> None:
    """A read longer than a page spans several pages, without repeats or gaps."""
    new = _create(contract_case, contract_connector, 2 * contract_case.page_size + 1)
    pages, _ = _read_all(contract_case, contract_connector, None, contract_case.page_size)
    ids = _ids(pages)
    assert len(pages) >= 3
    assert all(len(page) <= contract_case.page_size for page in pages)
    assert len(ids) == len(set(ids)), "a record came back twice in one read"
    assert set(new) <= set(ids)


def test_401_is_an_auth_error(
    contract_case: ContractCase, contract_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong credentials end in AuthError, and the message carries no secret."""
    connector = build_connector(
        contract_case, contract_sandbox, setenv=monkeypatch.setenv, wrong_credentials=True
    )
    try:
        with pytest.raises(AuthError) as caught:
            _read_all(contract_case, connector, None)
    finally:
        connector.close()
    for secret in contract_sandbox.credentials.values():
        assert secret not in str(caught.value)


def test_404_leaves_out_reads_and_refuses_updates(
    contract_case: ContractCase, contract_connector: Connector
) -> None:
    """A missing record is left out of reads; updating it fails that record only."""
    assert (
        contract_connector.read_by_ids(contract_case.object_name, [contract_case.missing_id]) == []
    )
    existing = _create(contract_case, contract_connector, 1)[0]
    results = contract_connector.update(
        contract_case.object_name,
        [(contract_case.missing_id, contract_case.change(1)), (existing, contract_case.change(2))],
    )
    assert [r.ok for r in results] == [False, True]
    assert results[0].error


def _faulted_read(
    case: ContractCase, connector: Connector, sandbox: Sandbox, kinds: tuple[str, ...]
) -> Any:
    sandbox.faults.kinds = kinds
    sandbox.faults.retry_after = 0.0
    sandbox.faults.limit = 2
    sandbox.faults.rate = 1.0
    pages, cursor = _read_all(case, connector, None)
    assert sandbox.faults.injected == 2
    statuses = [c.status for c in sandbox.journal.calls]
    return pages, cursor, statuses


def test_429_then_success(
    contract_case: ContractCase, contract_connector: Connector, contract_sandbox: Sandbox
) -> None:
    """Two 429 answers are waited out and the read completes."""
    pages, cursor, statuses = _faulted_read(
        contract_case, contract_connector, contract_sandbox, ("429",)
    )
    assert statuses.count(429) == 2 and statuses[-1] < 400
    assert cursor is not None and _ids(pages)


def test_5xx_then_success(
    contract_case: ContractCase, contract_connector: Connector, contract_sandbox: Sandbox
) -> None:
    """A 500 and a 503 on a read are retried and the read completes."""
    pages, cursor, statuses = _faulted_read(
        contract_case, contract_connector, contract_sandbox, ("500", "503")
    )
    assert sum(1 for s in statuses if s >= 500) == 2 and statuses[-1] < 400
    assert cursor is not None and _ids(pages)
