"""Paginators are pure state machines: body in, next request out, loop guard."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from handoff_hub.hub.errors import PagingLoopError
from handoff_hub.hub.http import paging
from handoff_hub.hub.http.paging import (
    NextUrlPaginator,
    OffsetPaginator,
    PageRequest,
    Paginator,
    TokenPaginator,
    dig,
)


def _drive(paginator: Paginator, first: PageRequest, bodies: list[Any]) -> list[PageRequest]:
    """Run the client loop without I/O: the request sent for each body in turn."""
    sent: list[PageRequest] = []
    request = first
    pages = iter(bodies)
    while paginator.has_next:
        sent.append(request)
        paginator.update_state(next(pages))
        request = paginator.update_request(request)
    return sent


# --- TokenPaginator -----------------------------------------------------------------


def test_token_in_query_is_added_to_the_existing_params() -> None:
    paginator = TokenPaginator(token_path="paging.next.after", param="after")
    first = PageRequest(url="/crm/v3/objects/deals", params={"limit": 100})

    sent = _drive(
        paginator,
        first,
        [
            {"results": [1], "paging": {"next": {"after": "a1"}}},
            {"results": [2], "paging": {"next": {"after": "a2"}}},
            {"results": [3]},
        ],
    )

    assert [dict(r.params) for r in sent] == [
        {"limit": 100},
        {"limit": 100, "after": "a1"},
        {"limit": 100, "after": "a2"},
    ]
    assert all(r.url == "/crm/v3/objects/deals" and r.json is None for r in sent)
    assert paginator.has_next is False


def test_token_in_body_is_merged_into_the_json_and_leaves_params_alone() -> None:
    paginator = TokenPaginator(token_path="nextPageToken", param="nextPageToken", placement="body")
    first = PageRequest(
        url="/rest/api/3/search/jql",
        params={"x": "1"},
        json={"jql": "project = HUB", "maxResults": 50},
    )

    sent = _drive(paginator, first, [{"nextPageToken": "t1"}, {"issues": []}])

    assert sent[0].json == {"jql": "project = HUB", "maxResults": 50}
    assert sent[1].json == {"jql": "project = HUB", "maxResults": 50, "nextPageToken": "t1"}
    assert dict(sent[1].params) == {"x": "1"}
    assert first.json == {"jql": "project = HUB", "maxResults": 50}  # not mutated


def test_body_placement_without_a_first_body_starts_one() -> None:
    paginator = TokenPaginator(token_path="next", param="cursor", placement="body")
    paginator.update_state({"next": "c1"})

    assert paginator.update_request(PageRequest(url="/search")).json == {"cursor": "c1"}


def test_stop_path_true_ends_even_when_a_token_is_present() -> None:
    paginator = TokenPaginator(
        token_path="nextPageToken", param="nextPageToken", stop_path="isLast"
    )

    sent = _drive(
        paginator,
        PageRequest(url="/search"),
        [{"nextPageToken": "t1", "isLast": False}, {"nextPageToken": "t2", "isLast": True}],
    )

    assert len(sent) == 2
    assert paginator.has_next is False


@pytest.mark.parametrize("flag", ["true", 1, None])
def test_stop_path_only_stops_on_a_real_true(flag: Any) -> None:
    paginator = TokenPaginator(token_path="next", param="next", stop_path="isLast")
    paginator.update_state({"next": "t1", "isLast": flag})

    assert paginator.has_next is True


@pytest.mark.parametrize(
    "body",
    [
        {"results": []},
        {"paging": None},
        {"paging": {"next": {"after": ""}}},
        {"paging": {"next": {"after": None}}},
        {"paging": "not-a-mapping"},
        [],
        None,
    ],
)
def test_missing_or_empty_token_ends_paging(body: Any) -> None:
    paginator = TokenPaginator(token_path="paging.next.after", param="after")
    assert paginator.has_next is True  # before the first page

    paginator.update_state(body)

    assert paginator.has_next is False
    request = PageRequest(url="/x", params={"a": 1})
    assert paginator.update_request(request) is request


def test_numeric_token_is_sent_as_text() -> None:
    paginator = TokenPaginator(token_path="next_page.offset", param="offset")
    paginator.update_state({"next_page": {"offset": 0}})

    assert dict(paginator.update_request(PageRequest(url="/tasks")).params) == {"offset": "0"}


def test_repeated_token_raises_paging_loop_error() -> None:
    paginator = TokenPaginator(token_path="next", param="next")
    paginator.update_state({"next": "same-token"})
    paginator.update_state({"next": "other"})

    with pytest.raises(PagingLoopError, match="same-token"):
        paginator.update_state({"next": "same-token"})


def test_loop_guard_is_per_paginator() -> None:
    first, second = (TokenPaginator(token_path="next", param="next") for _ in range(2))
    first.update_state({"next": "t1"})

    second.update_state({"next": "t1"})  # a new listing may hand out the same token

    assert second.has_next


# --- NextUrlPaginator ------------------------------------------------------------------


def test_next_url_replaces_the_whole_request() -> None:
    paginator = NextUrlPaginator(url_path="nextRecordsUrl", done_path="done")
    first = PageRequest(url="/services/data/v61.0/query", params={"q": "SELECT Id FROM Account"})

    sent = _drive(
        paginator,
        first,
        [
            {"done": False, "nextRecordsUrl": "/services/data/v61.0/query/01g-2000"},
            {"done": False, "nextRecordsUrl": "/services/data/v61.0/query/01g-4000"},
            {"done": True, "records": []},
        ],
    )

    assert [r.url for r in sent] == [
        "/services/data/v61.0/query",
        "/services/data/v61.0/query/01g-2000",
        "/services/data/v61.0/query/01g-4000",
    ]
    assert dict(sent[1].params) == {} and sent[1].json is None


def test_done_flag_wins_over_a_next_url() -> None:
    paginator = NextUrlPaginator(url_path="nextRecordsUrl", done_path="done")
    paginator.update_state({"done": True, "nextRecordsUrl": "/query/01g-2000"})

    assert paginator.has_next is False


def test_without_done_path_a_missing_url_ends() -> None:
    paginator = NextUrlPaginator(url_path="links.next")
    paginator.update_state({"links": {"next": "/page/2"}})
    assert paginator.has_next is True

    paginator.update_state({"links": {}})

    assert paginator.has_next is False


def test_repeated_next_url_raises_paging_loop_error() -> None:
    paginator = NextUrlPaginator(url_path="nextRecordsUrl", done_path="done")
    paginator.update_state({"done": False, "nextRecordsUrl": "/query/01g-2000"})

    with pytest.raises(PagingLoopError):
        paginator.update_state({"done": False, "nextRecordsUrl": "/query/01g-2000"})


def test_a_next_url_keeps_the_headers_every_page_carries() -> None:
    paginator = NextUrlPaginator(url_path="nextRecordsUrl", done_path="done")
    options = {"Sforce-Query-Options": "batchSize=200"}
    first = PageRequest(url="/query", params={"q": "SELECT Id FROM Account"}, headers=options)

    sent = _drive(
        paginator,
        first,
        [{"done": False, "nextRecordsUrl": "/query/01g-200"}, {"done": True, "records": []}],
    )

    assert [(r.url, dict(r.headers)) for r in sent] == [
        ("/query", options),
        ("/query/01g-200", options),
    ]


# --- OffsetPaginator --------------------------------------------------------------------


def _comments(count: int, total: Any) -> dict[str, Any]:
    return {"comments": [{"id": str(n)} for n in range(count)], "total": total}


def test_offset_moves_on_by_the_records_read_until_the_total() -> None:
    paginator = OffsetPaginator(records_path="comments", param="startAt", total_path="total")
    first = PageRequest(url="/issue/DEL-1/comment", params={"startAt": 0, "maxResults": 2})

    sent = _drive(paginator, first, [_comments(2, 5), _comments(2, 5), _comments(1, 5)])

    assert [dict(r.params) for r in sent] == [
        {"startAt": 0, "maxResults": 2},
        {"startAt": 2, "maxResults": 2},
        {"startAt": 4, "maxResults": 2},
    ]
    assert list(sent[1].params) == ["startAt", "maxResults"]  # the first request's order
    assert paginator.has_next is False


def test_a_short_page_moves_the_offset_by_what_came() -> None:
    paginator = OffsetPaginator(records_path="values", param="startAt", total_path="total")
    first = PageRequest(url="/x", params={"startAt": 0, "maxResults": 50})

    sent = _drive(paginator, first, [{"values": [1] * 20, "total": 30}, {"values": [1] * 10}])

    assert [r.params["startAt"] for r in sent] == [0, 20]


@pytest.mark.parametrize(
    "body",
    [_comments(0, 10), _comments(3, None), _comments(3, "many"), _comments(3, True), None, []],
    ids=["empty page", "no total", "junk total", "bool total", "no body", "a list"],
)
def test_an_empty_page_or_an_unreadable_total_ends_the_read(body: Any) -> None:
    paginator = OffsetPaginator(records_path="comments", param="startAt", total_path="total")

    paginator.update_state(body)

    assert paginator.has_next is False


def test_without_a_total_path_only_an_empty_page_ends_the_read() -> None:
    paginator = OffsetPaginator(records_path="items", param="offset", start=10)
    first = PageRequest(url="/items", params={"offset": 10})

    sent = _drive(paginator, first, [{"items": [1, 2]}, {"items": [3]}, {"items": []}])

    assert [r.params["offset"] for r in sent] == [10, 12, 13]


# --- purity -----------------------------------------------------------------------


def test_dig_reads_dotted_paths_and_tolerates_other_shapes() -> None:
    body = {"a": {"b": {"c": 3}}, "l": [1]}

    assert dig(body, "a.b.c") == 3
    assert dig(body, "a.x.c") is None
    assert dig(body, "l.0") is None
    assert dig("text", "a") is None


def test_paging_module_does_no_io() -> None:
    tree = ast.parse(Path(paging.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }

    assert not imported & {"httpx", "requests", "socket", "urllib", "io", "os"}
