"""Every request the connector sends and every sandbox answer, against Asana's OpenAPI.

The scenario drives the connector through each call it makes (listings with
offsets, batch reads and writes, the task search, projects, template
instantiation and jobs, stories, users, custom fields) over a recording
transport; each exchange is then validated with openapi-core against
``asana_oas.yaml``. The batch API is checked twice: the ``POST /batch``
envelope itself, and each action as the request it stands for, with the
status and body it was answered with. Left out on purpose: the OAuth token
endpoint (``/-/oauth_token`` is not part of the API description) and answers
the description does not list for an operation (402 from the search of a
non-premium workspace, 429), which are checked by shape instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest
from asana_support import API, BASE_URL, PROJECT, RecordingTransport, new_project
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from handoff_hub.hub.connector import ProjectTemplate

Exchange = tuple[httpx.Request, httpx.Response]
_UNDOCUMENTED = {402, 429}


def _problems(
    openapi: OpenAPI, request: MockRequest, response: MockResponse, *, requests: bool = True
) -> list[str]:
    found = (
        [f"request: {e!r} {e.__cause__!r}" for e in openapi.iter_request_errors(request)]
        if requests
        else []
    )
    for error in openapi.iter_response_errors(request, response):
        cause = error.__cause__
        details = [str(e)[:240] for e in getattr(cause, "schema_errors", [])][:3]
        found.append(f"response {response.status_code}: {error!r} {details}")
    return found


def _mock(request: httpx.Request) -> MockRequest:
    return MockRequest(
        BASE_URL,
        request.method.lower(),
        request.url.path.rstrip("/"),
        args=dict(request.url.params),
        data=request.content or None,
        headers=dict(request.headers),
    )


def _actions(request: httpx.Request, response: httpx.Response) -> Iterator[tuple[MockRequest, Any]]:
    """Each batch action as the request it stands for, with what it was answered."""
    actions = json.loads(request.content)["data"]["actions"]
    results = response.json()["data"]
    headers = {"Authorization": request.headers["Authorization"]}
    for act, result in zip(actions, results, strict=True):
        options = act.get("options") or {}
        args = {k: str(v) for k, v in options.items() if k in {"limit", "offset"}}
        if options.get("fields"):
            args["opt_fields"] = ",".join(options["fields"])
        method = act["method"]
        if method == "get":
            args |= {k: str(v) for k, v in (act.get("data") or {}).items()}
            body = None
        else:
            body = json.dumps({"data": act.get("data") or {}}).encode()
            headers = {**headers, "Content-Type": "application/json"}
        mock = MockRequest(
            BASE_URL, method, API + act["relative_path"], args=args, data=body, headers=headers
        )
        yield mock, result


def assert_conform(
    openapi: OpenAPI, exchanges: Iterable[Exchange], *, requests: bool = True
) -> set[str]:
    """Check every exchange; ``requests=False`` checks only the answers (to bad requests)."""
    seen: set[str] = set()
    failures: list[str] = []
    for request, response in exchanges:
        if not request.url.path.startswith(API) or response.status_code in _UNDOCUMENTED:
            continue
        where = f"{request.method} {request.url.path}"
        seen.add(f"{request.method} {_template(request.url.path)} {response.status_code}")
        answer = MockResponse(
            response.content, status_code=response.status_code, headers=dict(response.headers)
        )
        failures += [
            f"{where}: {p}" for p in _problems(openapi, _mock(request), answer, requests=requests)
        ]
        if request.url.path == API + "/batch" and response.status_code == 200:
            for action, result in _actions(request, response):
                status = result["status_code"]
                seen.add(f"batch {action.method.upper()} {_template(action.path)} {status}")
                if status in _UNDOCUMENTED:
                    continue
                inner = MockResponse(
                    json.dumps(result["body"]).encode(),
                    status_code=status,
                    headers={"Content-Type": "application/json"},
                )
                failures += [
                    f"batch {action.method} {action.path}: {p}"
                    for p in _problems(openapi, action, inner)
                ]
    assert not failures, "\n".join(failures)
    return seen


def _template(path: str) -> str:
    parts = path.removeprefix(API).split("/")
    return "/".join("{gid}" if p.isdigit() else p for p in parts)


@pytest.fixture
def recorder(sandbox, sandbox_transport) -> RecordingTransport:
    return RecordingTransport(sandbox_transport(sandbox))


def test_connector_traffic_conforms(openapi, sandbox, connect, recorder):
    connector = connect(sandbox, transport=recorder, settings={"page_size": 4})
    pages = list(connector.read_changes("tasks", since="2026-01-01T00:00:00.000+00:00"))
    list(connector.read_changes("tasks", since=None, where={"project": PROJECT}))
    list(connector.read_changes("projects", since=None))
    gids = [r.id for p in pages for r in p.records][:12]
    connector.read_by_ids("tasks", [*gids, "1209999999999999"], fields=["name", "notes"])
    connector.find_users(["ada.lovelace@acme-sales.example", "nobody@example.com"])
    results = connector.create(
        "tasks",
        [
            {"name": "Contract", "projects": [PROJECT], "custom_fields": {"crm_id": "hubspot:7"}},
            {"name": "Nowhere", "projects": ["1209999999999998"]},
        ],
    )
    assert [r.ok for r in results] == [True, False]
    connector.find_by_external_id("tasks", "crm_id", ["hubspot:7"])
    connector.update(
        "tasks",
        [
            (results[0].id or "", {"name": "Renamed", "custom_fields": {"Health": "Red"}}),
            ("1209999999999999", {"name": "Nope"}),
        ],
    )
    connector.add_comment("tasks", results[0].id or "", "Checked against the spec.")
    project = new_project()
    handle = connector.create_project(project)
    sandbox.state.modify_project(handle.id, fields={"CRM ID": None})
    connector.complete_project(handle, project)
    template = ProjectTemplate("asana", product_template=sandbox.template_gid)
    connector.create_project(new_project("hubspot:99", template=template))
    sandbox.state.set_premium(False)
    connector.find_by_external_id("tasks", "crm_id", ["hubspot:7"])
    seen = assert_conform(openapi, recorder.exchanges)
    assert seen >= {
        "GET /tasks 200",
        "GET /projects 200",
        "GET /users 200",
        "GET /workspaces/{gid}/custom_fields 200",
        "GET /workspaces/{gid}/tasks/search 200",
        "GET /projects/{gid}/tasks 200",
        "GET /projects/{gid} 200",
        "GET /project_templates/{gid} 200",
        "GET /jobs/{gid} 200",
        "POST /batch 200",
        "POST /projects 201",
        "PUT /projects/{gid} 200",
        "POST /project_templates/{gid}/instantiateProject 201",
        "POST /tasks/{gid}/stories 201",
        "batch GET /tasks/{gid} 200",
        "batch GET /tasks/{gid} 404",
        "batch GET /tasks/{gid}/subtasks 200",
        "batch POST /tasks 201",
        "batch POST /tasks 400",
        "batch POST /tasks/{gid}/subtasks 201",
        "batch PUT /tasks/{gid} 200",
        "batch PUT /tasks/{gid} 404",
    }, sorted(seen)


def test_reads_and_errors_conform(openapi, raw_client, sandbox):
    task = sandbox.state.tasks(PROJECT)[0]
    answers = [
        raw_client.get(f"{API}/tasks/{task}"),
        raw_client.get(f"{API}/tasks/{task}", params={"opt_fields": "name,assignee.name"}),
        raw_client.get(f"{API}/projects/{PROJECT}"),
        raw_client.get(f"{API}/projects/{PROJECT}/sections"),
        raw_client.get(f"{API}/tasks/{task}/subtasks", params={"limit": 2}),
        raw_client.get(f"{API}/users/me"),
        raw_client.get(f"{API}/workspaces"),
        raw_client.get(
            f"{API}/workspaces/1209000000000001/typeahead",
            params={"resource_type": "user", "query": "ada"},
        ),
        raw_client.get(f"{API}/project_templates", params={"team": "1209000000000011"}),
        raw_client.get(f"{API}/tasks", params={"project": PROJECT, "limit": 5, "offset": "x.y.z"}),
        raw_client.get(f"{API}/tasks/1209999999999999"),
        raw_client.get(f"{API}/workspaces/1209000000000002"),
        raw_client.post(f"{API}/tasks", json={"data": {"name": "Nowhere"}}),
    ]
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * 9 + [400, 404, 403, 400]
    assert_conform(openapi, [(a.request, a) for a in answers])
    # A request the description itself forbids: only Asana's error answer is checked.
    too_many = raw_client.get(f"{API}/tasks", params={"project": PROJECT, "limit": 101})
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["message"] == "limit: Must be between 1 and 100"
    assert_conform(openapi, [(too_many.request, too_many)], requests=False)


def test_the_validator_bites(openapi, raw_client):
    """A guard: a broken answer must fail, or every test above proves nothing."""
    good = raw_client.get(f"{API}/users/me")
    broken = httpx.Response(200, json={"data": {"gid": 12, "email": 5}}, request=good.request)
    with pytest.raises(AssertionError):
        assert_conform(openapi, [(good.request, broken)])


def test_structure_listings_conform(openapi, raw_client):
    workspace, team = "1209000000000001", "1209000000000011"
    fields = "custom_field.name,custom_field.enum_options,is_important,parent.name,project.name"
    answers = [
        raw_client.get(f"{API}/workspaces/{workspace}/projects", params={"limit": 2}),
        raw_client.get(
            f"{API}/workspaces/{workspace}/projects", params={"opt_fields": "name,team.name"}
        ),
        raw_client.get(f"{API}/projects/{PROJECT}/custom_field_settings"),
        raw_client.get(
            f"{API}/projects/{PROJECT}/custom_field_settings",
            params={"limit": 3, "opt_fields": fields},
        ),
        raw_client.get(f"{API}/teams/{team}/project_templates", params={"limit": 1}),
        raw_client.get(f"{API}/workspaces/{workspace}/teams"),
        raw_client.get(f"{API}/teams/{team}"),
        raw_client.get(f"{API}/teams/1209999999999999/project_templates"),
        raw_client.get(f"{API}/workspaces/1209000000000002/projects"),
    ]
    assert [a.status_code for a in answers] == [200] * 7 + [404, 403]
    assert "next_page" in answers[0].json() and "next_page" in answers[3].json()
    assert answers[2].json()["data"][0] == {
        "gid": answers[2].json()["data"][0]["gid"],
        "resource_type": "custom_field_setting",
    }
    assert_conform(openapi, [(a.request, a) for a in answers])
