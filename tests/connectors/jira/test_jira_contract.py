"""Every request the connector sends and every sandbox answer, against Atlassian's OpenAPI.

The scenario drives the connector through each call it makes (search, issue,
bulk create, edit, properties, comments, users, myself, fields, projects) over
a recording transport; each exchange is then validated with openapi-core
against ``swagger-v3.v3.json``. Two deliberate allowances, both where the
published file disagrees with Jira's wire format: ``date-time`` takes
``+0100`` offsets (see conftest), and an empty body (``204``, a property
``PUT``) is accepted although the file lists a JSON media type for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import httpx
import pytest
from jira_support import BASE_URL, RecordingTransport, new_project
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

Exchange = tuple[httpx.Request, httpx.Response]


def problems(openapi: OpenAPI, request: httpx.Request, response: httpx.Response) -> list[str]:
    mock = MockRequest(
        BASE_URL,
        request.method.lower(),
        request.url.path.rstrip("/"),
        args=dict(request.url.params),
        data=request.content or None,
        headers=dict(request.headers),
    )
    found = [f"request: {e!r} {e.__cause__!r}" for e in openapi.iter_request_errors(mock)]
    answer = MockResponse(
        response.content, status_code=response.status_code, headers=dict(response.headers)
    )
    for error in openapi.iter_response_errors(mock, answer):
        if not response.content and type(error).__name__ == "MissingData":
            continue
        cause = error.__cause__
        details = [str(e)[:200] for e in getattr(cause, "schema_errors", [])][:3]
        found.append(f"response {response.status_code}: {error!r} {details}")
    return found


def assert_conform(openapi: OpenAPI, exchanges: Iterable[Exchange]) -> set[str]:
    seen: set[str] = set()
    failures = []
    for request, response in exchanges:
        where = f"{request.method} {request.url.path}"
        seen.add(f"{request.method} {_template(request.url.path)} {response.status_code}")
        failures += [f"{where}: {p}" for p in problems(openapi, request, response)]
    assert not failures, "\n".join(failures)
    return seen


def _template(path: str) -> str:
    parts = path.rstrip("/").split("/")
    named = {"issue": "{key}", "properties": "{name}", "project": "{key}"}
    out = []
    for index, part in enumerate(parts):
        before = parts[index - 1] if index else ""
        fixed = part in {"bulk", "comment", "properties", "search", "jql"}
        out.append(named[before] if before in named and not fixed else part)
    return "/".join(out)


@pytest.fixture
def recorder(sandbox, sandbox_transport) -> RecordingTransport:
    return RecordingTransport(sandbox_transport(sandbox))


def test_connector_traffic_conforms(openapi, sandbox, connect, recorder):
    connector = connect(sandbox, transport=recorder)
    pages = list(
        connector.read_changes("issue", since="2026-11-01T00:00:00.000+00:00", page_size=20)
    )
    keys = [r.id for p in pages for r in p.records][:3]
    connector.read_by_ids("issue", [*keys, "DEL-9999"], fields=["summary"])
    connector.find_by_external_id("issue", "customfield_10051", ["Acme Industries"])
    connector.find_by_external_id("issue", "customfield_10050", ["120000"])
    connector.find_users(["ada.lovelace@acme-sales.example", "nobody@example.com"])
    results = connector.create(
        "issue",
        [
            {"project": {"key": "DEL"}, "issuetype": {"name": "Task"}, "summary": "Contract"},
            {"project": {"key": "DEL"}, "summary": "No issue type"},
        ],
    )
    connector.update("issue", [(results[0].id or "", {"summary": "Contract, renamed"})])
    connector.add_comment("issue", results[0].id or "", "Checked against the spec.")
    project = new_project()
    handle = connector.create_project(project)
    sandbox.store.issue(handle.key).properties.clear()  # complete_project PUTs it back
    found = connector.find_project(project.source_id)
    assert found is not None
    connector.complete_project(found, project)
    assert connector.find_project(project.source_id) == found
    connect(sandbox, transport=recorder, settings={"mode": "project"}).create_project(
        new_project(source_id="hubspot:1")
    )
    seen = assert_conform(openapi, recorder.exchanges)
    assert seen >= {
        "GET /rest/api/3/myself 200",
        "GET /rest/api/3/field 200",
        "POST /rest/api/3/search/jql 200",
        "POST /rest/api/3/search/jql 400",
        "GET /rest/api/3/issue/{key} 200",
        "GET /rest/api/3/issue/{key} 404",
        "POST /rest/api/3/issue 201",
        "POST /rest/api/3/issue/bulk 201",
        "PUT /rest/api/3/issue/{key} 204",
        "GET /rest/api/3/issue/{key}/properties/{name} 200",
        "GET /rest/api/3/issue/{key}/properties/{name} 404",
        "PUT /rest/api/3/issue/{key}/properties/{name} 201",
        "POST /rest/api/3/issue/{key}/comment 201",
        "GET /rest/api/3/user/search 200",
        "GET /rest/api/3/project/{key} 404",
        "POST /rest/api/3/project 201",
    }, seen


def test_bulk_create_refusal_conforms(openapi, raw_client):
    response = raw_client.post(
        "/rest/api/3/issue/bulk",
        json={
            "issueUpdates": [
                {"fields": {"summary": "no project"}},
                {"fields": {"project": {"key": "DEL"}}},
            ]
        },
    )
    assert response.status_code == 400
    assert [e["failedElementNumber"] for e in response.json()["errors"]] == [0, 1]
    assert_conform(openapi, [(response.request, response)])


def test_single_create_errors_conform(openapi, raw_client):
    answers = [
        raw_client.post(
            "/rest/api/3/issue",
            json={
                "fields": {
                    "project": {"key": "DEL"},
                    "issuetype": {"name": "Task"},
                    "summary": "x",
                    "description": "plain text",
                    "customfield_99": 1,
                }
            },
        ),
        raw_client.post(
            "/rest/api/3/issue",
            json={
                "fields": {
                    "project": {"key": "DEL"},
                    "issuetype": {"name": "Subtask"},
                    "summary": "orphan",
                }
            },
        ),
        raw_client.post(
            "/rest/api/3/issue",
            json={
                "fields": {
                    "project": {"key": "DEL"},
                    "issuetype": {"name": "Epic"},
                    "summary": "child epic",
                    "parent": {"key": "DEL-1"},
                }
            },
        ),
    ]
    assert [a.status_code for a in answers] == [400, 400, 400]
    first = answers[0].json()["errors"]
    assert first["description"].startswith("Operation value must be an Atlassian Document")
    assert first["customfield_99"] == (
        "Field 'customfield_99' cannot be set. It is not on the appropriate screen, or unknown."
    )
    assert "parent" in answers[1].json()["errors"] and "parent" in answers[2].json()["errors"]
    assert_conform(openapi, [(a.request, a) for a in answers])


def test_reads_and_catalogues_conform(openapi, raw_client, sandbox):
    key = sandbox.state.keys(project="DEL")[0]
    answers = [
        raw_client.get(f"/rest/api/3/issue/{key}"),
        raw_client.get(f"/rest/api/3/issue/{key}", params={"fields": "summary,parent"}),
        raw_client.get(
            "/rest/api/3/search/jql",
            params={"jql": "project = DEL", "fields": "*all", "maxResults": 10},
        ),
        raw_client.get("/rest/api/3/field"),
        raw_client.get("/rest/api/3/myself"),
        raw_client.get("/rest/api/3/user/search", params={"query": "grace"}),
        raw_client.get(f"/rest/api/3/issue/{key}/properties/handoff-hub"),
        raw_client.get("/rest/api/3/project/DEL"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 200, 404, 200]
    assert_conform(openapi, [(a.request, a) for a in answers])
    assert json.loads(answers[5].content)[0]["displayName"].startswith("Grace")


def test_script_routes_conform(openapi, raw_client, sandbox):
    """The calls admins make with the jira SDK beside the connector's, against the spec."""
    key = sandbox.state.add_issue("Scripted")
    parent = sandbox.state.add_issue("With a sub-task")
    sandbox.state.add_issue("Sub-task", issuetype="Subtask", parent=parent)
    issue = f"/rest/api/3/issue/{key}"
    link = {"globalId": "crm=1", "object": {"url": "https://crm.example/1", "title": "Deal 1"}}
    ada = sandbox.state.user_ids()["ada.lovelace@acme-sales.example"]
    untitled = raw_client.post(f"{issue}/remotelink", json={"object": {"url": "https://x"}})
    assert untitled.status_code == 400  # (the request breaks the spec: no conformance check)
    assert untitled.json() == {"errorMessages": [], "errors": {"title": "'title' is required."}}
    answers = [
        raw_client.get("/rest/api/3/serverInfo"),
        raw_client.get("/rest/api/3/project"),
        raw_client.get(f"{issue}/transitions"),
        raw_client.post(f"{issue}/transitions", json={"transition": {"id": "21"}}),
        raw_client.post(f"{issue}/transitions", json={"transition": {"id": "21"}}),
        raw_client.post(f"{issue}/remotelink", json=link),
        raw_client.post(f"{issue}/remotelink", json=link),
        raw_client.get(f"{issue}/remotelink/10000"),
        raw_client.put(f"{issue}/remotelink/10000", json=link),
        raw_client.delete(f"{issue}/remotelink/10000"),
        raw_client.put(f"{issue}/assignee", json={"accountId": ada}),
        raw_client.delete(f"/rest/api/3/issue/{parent}"),
        raw_client.delete(issue),
    ]
    assert [a.status_code for a in answers] == [
        200, 200, 200, 204, 400, 201, 200, 200, 204, 204, 204, 400, 204,
    ]  # fmt: skip
    assert_conform(openapi, [(a.request, a) for a in answers])


def test_remote_link_list_is_an_array(openapi, raw_client, sandbox):
    """The published file types ``GET /remotelink`` as one link; Jira (and its example)
    answer an array, and one object only when ``globalId`` picks it."""
    key = sandbox.state.keys(project="DEL")[0]
    link = {"globalId": "crm=2", "object": {"url": "https://crm.example/2", "title": "Deal 2"}}
    raw_client.post(f"/rest/api/3/issue/{key}/remotelink", json=link)
    listed = raw_client.get(f"/rest/api/3/issue/{key}/remotelink")
    assert [lk["globalId"] for lk in listed.json()] == ["crm=2"]
    picked = raw_client.get(f"/rest/api/3/issue/{key}/remotelink", params={"globalId": "crm=2"})
    assert picked.json()["object"]["title"] == "Deal 2"
    assert_conform(openapi, [(picked.request, picked)])


def _as_version_3(request: httpx.Request) -> httpx.Request:
    path = request.url.path.replace("/rest/api/2/", "/rest/api/3/", 1)
    url = request.url.copy_with(path=path)
    return httpx.Request(request.method, url, headers=request.headers, content=request.content)


def test_version_2_answers_have_the_version_3_shapes(openapi, raw_client, sandbox):
    """REST v2 offers the same operations with rich text as strings: same shapes otherwise."""
    created = raw_client.post(
        "/rest/api/2/issue",
        json={
            "fields": {
                "project": {"key": "DEL"},
                "issuetype": {"name": "Task"},
                "summary": "Version 2",
                "description": "Plain\ntext",
            }
        },
    )
    key = created.json()["key"]
    answers = [
        created,
        raw_client.get(f"/rest/api/2/issue/{key}"),
        raw_client.post(f"/rest/api/2/issue/{key}/comment", json={"body": "A comment"}),
        raw_client.get(f"/rest/api/2/issue/{key}/comment"),
        raw_client.get("/rest/api/2/search/jql", params={"jql": f"key = {key}", "fields": "*all"}),
        raw_client.get(f"/rest/api/2/issue/{key}/transitions"),
        raw_client.get("/rest/api/2/myself"),
    ]
    assert [a.status_code for a in answers] == [201, 200, 201, 200, 200, 200, 200]
    assert created.json()["self"].endswith(f"/rest/api/2/issue/{created.json()['id']}")
    assert answers[1].json()["fields"]["description"] == "Plain\ntext"
    assert answers[3].json()["comments"][0]["body"] == "A comment"
    assert answers[4].json()["issues"][0]["fields"]["description"] == "Plain\ntext"
    assert sandbox.state.get(key)["fields"]["description"]["type"] == "doc"
    assert_conform(openapi, [(_as_version_3(a.request), a) for a in answers])
    adf = {"type": "doc", "version": 1, "content": []}
    refused = raw_client.put(f"/rest/api/2/issue/{key}", json={"fields": {"description": adf}})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"description": "Operation value must be a string"}
