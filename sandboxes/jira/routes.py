"""The Jira sandbox's route table: REST paths onto handlers, for API versions 2 and 3.

Every route lives under ``/rest/api/{version}``; a handler gets the request's
:class:`~sandboxes.jira.wire.Endpoint` (its site address and version),
decoded query parameters and the JSON body, and returns ``(status, body)``.
Authentication, rate limits and errors are the app's (:mod:`.sandbox`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from handoff_hub.sandboxes.jira.actions import JiraActions
from handoff_hub.sandboxes.jira.api import JiraApi, Reply, error
from handoff_hub.sandboxes.jira.meta import JiraMeta
from handoff_hub.sandboxes.jira.wire import VERSIONS, Endpoint

__all__ = ["BadJson", "Handler", "endpoint_of", "routes"]

API = "/rest/api/{version}"
Handler = Callable[[Request, bytes], Reply]


class BadJson(Exception):
    """The request body is not JSON."""


def endpoint_of(request: Request) -> Endpoint:
    """The site address and API version a request came in on."""
    host = f"{request.url.scheme}://{request.url.netloc}"
    return Endpoint(host, VERSIONS.get(str(request.path_params.get("version")), "3"))


def routes(api: JiraApi, actions: JiraActions, wrap: Callable[[Handler], Any]) -> list[Route]:
    """Every route of the site; ``wrap`` turns a handler into a Starlette endpoint."""
    table = _Table(api, actions)
    meta = JiraMeta(api.store, administer=api.administer)
    issue = API + "/issue/{key}"
    createmeta = "/issue/createmeta/{key}/issuetypes"
    plan: list[tuple[str, Handler, list[str]]] = [
        ("/serverInfo", lambda r, _: api.server_info(endpoint_of(r)), ["GET"]),
        ("/myself", lambda r, _: api.myself(endpoint_of(r)), ["GET"]),
        ("/field", lambda r, _: api.fields(), ["GET"]),
        ("/search/jql", table.search, ["GET", "POST"]),
        ("/issue", lambda r, raw: api.create_issue(endpoint_of(r), decode(raw)), ["POST"]),
        ("/issue/bulk", lambda r, raw: api.bulk_create(endpoint_of(r), decode(raw)), ["POST"]),
        ("/issue/bulkfetch", lambda r, raw: api.bulk_fetch(endpoint_of(r), decode(raw)), ["POST"]),
        ("/user/search", lambda r, _: api.user_search(endpoint_of(r), _params(r)), ["GET"]),
        ("/project", table.project, ["GET", "POST"]),
        ("/project/{key}", lambda r, _: api.get_project(endpoint_of(r), _key(r)), ["GET"]),
        ("/mypermissions", lambda r, _: meta.my_permissions(_params(r)), ["GET"]),
        (createmeta, lambda r, _: meta.issue_types(endpoint_of(r), _key(r), _params(r)), ["GET"]),
        (createmeta + "/{type}", table.create_fields(meta), ["GET"]),
    ]
    per_issue: list[tuple[str, Handler, list[str]]] = [
        ("", table.issue, ["GET", "PUT", "DELETE"]),
        ("/properties", lambda r, _: api.property_keys(endpoint_of(r), _key(r)), ["GET"]),
        ("/properties/{name}", table.property, ["GET", "PUT"]),
        ("/comment", table.comment, ["GET", "POST"]),
        ("/transitions", table.transitions, ["GET", "POST"]),
        ("/remotelink", table.remote_links, ["GET", "POST", "DELETE"]),
        ("/remotelink/{link}", table.remote_link, ["GET", "PUT", "DELETE"]),
        ("/assignee", lambda r, raw: actions.assign(_key(r), decode(raw)), ["PUT"]),
    ]
    return [
        Route(API + path, wrap(handler), methods=methods) for path, handler, methods in plan
    ] + [
        Route(issue + path, wrap(handler), methods=methods) for path, handler, methods in per_issue
    ]


def decode(raw: bytes) -> Any:
    """The JSON body (None when empty).

    Raises:
        BadJson: it is not JSON.
    """
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise BadJson from None


def _key(request: Request) -> str:
    return str(request.path_params["key"])


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


class _Table:
    """Handlers that pick an operation by method or read repeated query parameters."""

    def __init__(self, api: JiraApi, actions: JiraActions) -> None:
        self.api = api
        self.actions = actions

    def search(self, request: Request, raw: bytes) -> Reply:
        at = endpoint_of(request)
        if request.method == "POST":
            body = decode(raw)
            if not isinstance(body, dict):
                return error(400, "The request body must be a JSON object.")
            return self.api.search(at, body)
        params: dict[str, Any] = dict(request.query_params)
        for multi in ("fields", "properties"):
            params[multi] = request.query_params.getlist(multi) or None
        return self.api.search(at, {k: v for k, v in params.items() if v is not None})

    def issue(self, request: Request, raw: bytes) -> Reply:
        at, key = endpoint_of(request), _key(request)
        if request.method == "PUT":
            return self.api.edit_issue(at, key, decode(raw))
        if request.method == "DELETE":
            return self.actions.delete(key, _params(request))
        params = {
            "fields": request.query_params.getlist("fields") or None,
            "properties": request.query_params.getlist("properties") or None,
        }
        return self.api.get_issue(at, key, params)

    def property(self, request: Request, raw: bytes) -> Reply:
        key, name = _key(request), request.path_params["name"]
        if request.method == "PUT":
            return self.api.put_property(key, name, raw)
        return self.api.get_property(key, name)

    def comment(self, request: Request, raw: bytes) -> Reply:
        at, key = endpoint_of(request), _key(request)
        if request.method == "POST":
            return self.api.add_comment(at, key, decode(raw))
        return self.api.comments(at, key)

    def project(self, request: Request, raw: bytes) -> Reply:
        at = endpoint_of(request)
        if request.method == "POST":
            return self.api.create_project(at, decode(raw))
        return self.api.projects(at)

    def create_fields(self, meta: JiraMeta) -> Handler:
        def handler(request: Request, _raw: bytes) -> Reply:
            kind = str(request.path_params["type"])
            return meta.issue_type_fields(
                endpoint_of(request), _key(request), kind, _params(request)
            )

        return handler

    def transitions(self, request: Request, raw: bytes) -> Reply:
        at, key = endpoint_of(request), _key(request)
        if request.method == "POST":
            return self.actions.transition(at, key, decode(raw))
        return self.actions.transitions(at, key, _params(request))

    def remote_links(self, request: Request, raw: bytes) -> Reply:
        at, key = endpoint_of(request), _key(request)
        if request.method == "POST":
            return self.actions.save_remote_link(at, key, decode(raw))
        if request.method == "DELETE":
            return self.actions.delete_remote_links(key, _params(request))
        return self.actions.remote_links(at, key, _params(request))

    def remote_link(self, request: Request, raw: bytes) -> Reply:
        at, key, link = endpoint_of(request), _key(request), request.path_params["link"]
        if request.method == "PUT":
            return self.actions.update_remote_link(key, link, decode(raw))
        if request.method == "DELETE":
            return self.actions.delete_remote_link(key, link)
        return self.actions.remote_link(at, key, link)
