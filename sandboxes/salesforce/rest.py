"""The sandbox's REST data API handlers (``/services/data/vXX.X/...``).

Each handler takes the request and the API version and answers ``(status,
body)``; :class:`~sandboxes.salesforce.app.SalesforceSandbox` wraps them
with the session, version and allocation checks every resource shares.
:meth:`DataApi.routes` lists them more specific paths first, as Salesforce
resolves ``/sobjects/Account/describe`` before ``/sobjects/Account/{id}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from handoff_hub.sandboxes.salesforce import api as api
from handoff_hub.sandboxes.salesforce import sobjects as sobjects
from handoff_hub.sandboxes.salesforce.cursors import QueryCursors
from handoff_hub.sandboxes.salesforce.query import run_query
from handoff_hub.sandboxes.salesforce.schema import ObjectDef, describe_object
from handoff_hub.sandboxes.salesforce.soql import SoqlError
from handoff_hub.sandboxes.salesforce.sosl import run_search
from handoff_hub.sandboxes.salesforce.state import ApiAllocation
from handoff_hub.sandboxes.salesforce.store import RecordStore

__all__ = ["DataApi", "Handler", "Reply"]

Reply = tuple[int, Any]
Handler = Callable[[Request, str], Awaitable[Reply]]
Wrap = Callable[..., Any]
SEARCH_RECORDS_VERSION = 36
"""From API 36.0 a search answers ``{"searchRecords": [...]}``, before it a bare list."""
_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


class DataApi:
    """The org's records behind the REST data API."""

    def __init__(self, store: RecordStore, allocation: ApiAllocation, cursors: QueryCursors):
        self.store = store
        self.allocation = allocation
        self.cursors = cursors

    def routes(self, wrap: Wrap) -> list[Route]:
        """The data API's routes, each handler wrapped by ``wrap(handler, writes=...)``."""
        data = "/services/data/v{version}"
        sobject = data + "/sobjects/{sobject}"
        table: list[tuple[str, Handler, list[str], bool]] = [
            (data, self.resources, ["GET"], False),
            (data + "/limits", self.limits, ["GET"], False),
            (data + "/query", self.query, ["GET"], False),
            (data + "/query/{locator}", self.query_more, ["GET"], False),
            (data + "/queryAll", self.query_all, ["GET"], False),
            (data + "/queryAll/{locator}", self.query_more, ["GET"], False),
            (data + "/search", self.search, ["GET"], False),
            (data + "/composite/sobjects", self.collection_save, ["POST", "PATCH"], True),
            (data + "/composite/sobjects/{sobject}", self.collection_get, ["GET", "POST"], False),
            (
                data + "/composite/sobjects/{sobject}/{field}",
                self.collection_upsert,
                ["PATCH"],
                True,
            ),
            (data + "/sobjects", self.describe_global, ["GET"], False),
            (sobject + "/describe", self.describe, ["GET"], False),
            (sobject + "/updated", self.updated, ["GET"], False),
            (sobject + "/deleted", self.deleted, ["GET"], False),
            (sobject, self.sobject, ["GET", "POST"], True),
            (sobject + "/{record_id}", self.row, ["GET", "PATCH", "DELETE"], True),
            (sobject + "/{field}/{value:path}", self.external, ["GET", "PATCH", "DELETE"], True),
        ]
        return [Route(path, wrap(h, writes=w), methods=m) for path, h, m, w in table]

    def _object(self, request: Request) -> ObjectDef:
        return api.object_or_404(self.store.schema, request.path_params["sobject"])

    async def resources(self, _request: Request, version: str) -> Reply:
        """``GET /vXX.X``: the resources of the version."""
        root = f"/services/data/v{version}"
        names = ("sobjects", "query", "composite", "limits", "queryAll", "search")
        return 200, {name: f"{root}/{name}" for name in names}

    async def limits(self, _request: Request, _version: str) -> Reply:
        """``GET /limits``: the org's allocations."""
        used, limit = self.allocation.used, self.allocation.limit
        return 200, {"DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)}}

    async def query(self, request: Request, version: str) -> Reply:
        """``GET /query?q=``: a SOQL query's first page."""
        return self._query(request, version, include_deleted=False)

    async def query_all(self, request: Request, version: str) -> Reply:
        """``GET /queryAll?q=``: the same, the recycle bin included."""
        return self._query(request, version, include_deleted=True)

    def _query(self, request: Request, version: str, *, include_deleted: bool) -> Reply:
        text = request.query_params.get("q")
        if not text:
            raise SoqlError("MALFORMED_QUERY", "A query string has to be specified")
        batch = _batch_size(request.headers.get("Sforce-Query-Options", ""))
        with self.store.lock:
            rows, total = run_query(text, self.store, version, include_deleted=include_deleted)
        endpoint = "queryAll" if include_deleted else "query"
        return 200, self.cursors.first_page(rows, total, batch, version, endpoint)

    async def query_more(self, request: Request, version: str) -> Reply:
        """``GET /query/{locator}``: the page a ``nextRecordsUrl`` names."""
        return 200, self.cursors.next_page(request.path_params["locator"], version)

    async def search(self, request: Request, version: str) -> Reply:
        """``GET /search?q=``: a SOSL search."""
        text = request.query_params.get("q")
        if not text:
            raise SoqlError(
                "MALFORMED_SEARCH",
                "No search term found. The search term must be enclosed in braces.",
            )
        with self.store.lock:
            found = run_search(text, self.store, version)
        if int(version.partition(".")[0]) < SEARCH_RECORDS_VERSION:
            return 200, found
        return 200, {"searchRecords": found}

    async def collection_save(self, request: Request, _version: str) -> Reply:
        """``POST`` / ``PATCH /composite/sobjects``: create or update up to 200."""
        body = await _body(request)
        with self.store.lock:
            return 200, api.save_collection(self.store, body, creating=request.method == "POST")

    async def collection_get(self, request: Request, version: str) -> Reply:
        """``GET`` / ``POST /composite/sobjects/{type}``: records by id."""
        obj = self._object(request)
        if request.method == "POST":
            body = await _body(request)
            ids, fields = (
                (body.get("ids"), body.get("fields")) if isinstance(body, dict) else (None, None)
            )
        else:
            ids = _split(request.query_params.get("ids"))
            fields = _split(request.query_params.get("fields"))
        with self.store.lock:
            return 200, api.retrieve(self.store, obj, ids, fields, version)

    async def collection_upsert(self, request: Request, _version: str) -> Reply:
        """``PATCH /composite/sobjects/{type}/{field}``: upsert up to 200."""
        obj = self._object(request)
        body = await _body(request)
        with self.store.lock:
            return 200, api.upsert_collection(self.store, obj, request.path_params["field"], body)

    async def describe_global(self, _request: Request, version: str) -> Reply:
        """``GET /sobjects``: describe global."""
        return sobjects.describe_global(self.store.schema, version)

    async def describe(self, request: Request, version: str) -> Reply:
        """``GET /sobjects/{type}/describe``."""
        obj = self._object(request)
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return 200, describe_object(obj, version, origin, self.store.schema.objects)

    async def updated(self, request: Request, _version: str) -> Reply:
        """``GET /sobjects/{type}/updated?start=&end=``: Get Updated."""
        obj, params = self._object(request), request.query_params
        with self.store.lock:
            return sobjects.updated_records(self.store, obj, params.get("start"), params.get("end"))

    async def deleted(self, request: Request, _version: str) -> Reply:
        """``GET /sobjects/{type}/deleted?start=&end=``: Get Deleted."""
        obj, params = self._object(request), request.query_params
        with self.store.lock:
            return sobjects.deleted_records(self.store, obj, params.get("start"), params.get("end"))

    async def sobject(self, request: Request, version: str) -> Reply:
        """``GET /sobjects/{type}`` basic information; ``POST`` creates one record."""
        obj = self._object(request)
        if request.method == "GET":
            with self.store.lock:
                return sobjects.basic_info(self.store, obj, version)
        body = await _body(request)
        with self.store.lock:
            outcome = self.store.insert(obj, body if isinstance(body, dict) else {})
        if not outcome.ok:
            return 400, [e.as_rest() for e in outcome.errors]
        return 201, {"id": outcome.id, "success": True, "errors": []}

    async def row(self, request: Request, version: str) -> Reply:
        """``GET`` / ``PATCH`` / ``DELETE /sobjects/{type}/{id}``."""
        obj = self._object(request)
        record_id = request.path_params["record_id"]
        if request.method == "DELETE":
            with self.store.lock:
                return sobjects.delete_record(self.store, obj, record_id)
        if request.method == "PATCH":
            body = await _body(request)
            with self.store.lock:
                outcome = self.store.modify(obj, record_id, body if isinstance(body, dict) else {})
            return (204, None) if outcome.ok else (400, [e.as_rest() for e in outcome.errors])
        with self.store.lock:
            found = self.store.readable(record_id)
            if found is None or found[0] != obj.name:
                raise api.BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
            fields = _split(request.query_params.get("fields"))
            return 200, api.project(obj, found[1], fields, version)

    async def external(self, request: Request, version: str) -> Reply:
        """``GET`` / ``PATCH`` (upsert) / ``DELETE /sobjects/{type}/{field}/{value}``."""
        obj = self._object(request)
        field, value = request.path_params["field"], request.path_params["value"]
        if request.method == "PATCH":
            body = await _body(request)
            with self.store.lock:
                return sobjects.upsert_by_external_id(self.store, obj, field, value, body, version)
        with self.store.lock:
            if request.method == "DELETE":
                return sobjects.delete_by_external_id(self.store, obj, field, value, version)
            fields = _split(request.query_params.get("fields"))
            return sobjects.get_by_external_id(self.store, obj, field, value, fields, version)


def _batch_size(header: str) -> int:
    match = _BATCH.search(header)
    size = int(match.group(1)) if match else 2000
    return min(2000, max(200, size))


def _split(value: str | None) -> list[str] | None:
    return [v for v in value.split(",") if v] if value else None


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise api.BadRequest(
            400, "JSON_PARSER_ERROR", "Unexpected character in the request body"
        ) from None
