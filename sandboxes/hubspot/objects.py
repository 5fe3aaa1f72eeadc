"""The sandbox's CRM record endpoints: objects v3 and associations v4.

``/crm/v3/objects/{type}``: list (``limit`` up to 100, ``after``,
``properties``, ``associations``, ``archived``) and create;
``.../{id}``: read (also by ``idProperty``, or archived ones with
``archived=true``), update (PATCH) and archive (DELETE, 204 whether or not
the record exists, as HubSpot answers); ``.../search``;
``.../batch/{read,create,update,upsert,archive}``. Associations v4: list,
batch read, create with HubSpot-defined types, create default, and remove.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from handoff_hub.sandboxes.hubspot import api as api
from handoff_hub.sandboxes.hubspot import batch as batch
from handoff_hub.sandboxes.hubspot.errors import ApiError
from handoff_hub.sandboxes.hubspot.http import body, bool_param, int_param, list_param
from handoff_hub.sandboxes.hubspot.schema import ObjectDef
from handoff_hub.sandboxes.hubspot.search import SearchViews, search_view
from handoff_hub.sandboxes.hubspot.store import Record, RecordStore

__all__ = ["MAX_LIST", "ObjectEndpoints"]

MAX_LIST = 100
Reply = tuple[int, Any]


@dataclass
class ObjectEndpoints:
    """The record endpoints of one portal; each handler answers ``(status, body)``."""

    store: RecordStore
    answers: api.Answers
    single: api.Answers
    searches: SearchViews
    window: int

    async def search(self, request: Request) -> Reply:
        """``POST /crm/v3/objects/{type}/search``."""
        obj = api.object_or_error(request.path_params["object_type"])
        wanted = await body(request)
        with self.store.lock:
            page, total, following = search_view(obj, self.searches, wanted, window=self.window)
            names = api.requested(
                obj, wanted.get("properties") if isinstance(wanted, dict) else None
            )
            results = [api.render(r, names) for r in page]
        reply: dict[str, Any] = {"total": total, "results": results}
        if following is not None:
            reply["paging"] = {"next": {"after": str(following)}}
        return 200, reply

    async def batch(self, request: Request) -> Reply:
        """``POST /crm/v3/objects/{type}/batch/{action}``."""
        obj = api.object_or_error(request.path_params["object_type"])
        action = request.path_params["action"]
        wanted = await body(request)
        with self.store.lock:
            if action == "read":
                archived = bool_param(request, "archived")
                return api.batch_read(self.store, obj, wanted, self.answers, archived=archived)
            if action == "archive":
                return self._archive_many(obj, wanted)
            handlers = {
                "create": batch.batch_create,
                "update": batch.batch_update,
                "upsert": batch.batch_upsert,
            }
            handler = handlers.get(action)
            if handler is None:
                raise ApiError(404, "OBJECT_NOT_FOUND", "resource not found")
            return handler(self.store, obj, wanted, self.answers)

    async def collection(self, request: Request) -> Reply:
        """``GET`` (a page of records) and ``POST`` (create one) on ``/crm/v3/objects/{type}``."""
        obj = api.object_or_error(request.path_params["object_type"])
        if request.method == "POST":
            wanted = await body(request)
            properties = wanted.get("properties") if isinstance(wanted, dict) else None
            links = wanted.get("associations") if isinstance(wanted, dict) else None
            item = {"properties": properties or {}, **({"associations": links} if links else {})}
            with self.store.lock:
                _, reply = batch.batch_create(self.store, obj, {"inputs": [item]}, self.single)
            return 201, reply["results"][0]
        limit = int_param(request, "limit", 10)
        if not 1 <= limit <= MAX_LIST:
            raise ApiError(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_LIST}")
        after = int_param(request, "after", 0)
        archived = bool_param(request, "archived")
        names = api.requested(obj, list_param(request, "properties"))
        with self.store.lock:
            rows = self.store.records_after(obj, after, limit + 1, archived=archived)
            results = [self._shown(request, obj, r, names) for r in rows[:limit]]
        page: dict[str, Any] = {"results": results}
        if len(rows) > limit:
            nxt = rows[limit - 1].id
            link = f"https://api.hubapi.com/crm/v3/objects/{obj.name}?after={nxt}"
            page["paging"] = {"next": {"after": nxt, "link": link}}
        return 200, page

    async def row(self, request: Request) -> Reply:
        """``GET``, ``PATCH`` and ``DELETE`` on ``/crm/v3/objects/{type}/{id}``."""
        obj = api.object_or_error(request.path_params["object_type"])
        key = request.path_params["object_id"]
        id_property = request.query_params.get("idProperty")
        if request.method == "DELETE":
            with self.store.lock:
                return self._archive_many(obj, {"inputs": [{"id": key}]})
        if request.method == "PATCH":
            return await self._update(request, obj, key, id_property)
        archived = bool_param(request, "archived")
        with self.store.lock:
            if id_property:
                id_property = api.unique_property(obj, id_property)
            record = api.locate(self.store, obj, key, id_property, archived=archived)
            if record is None:
                raise ApiError(404, "OBJECT_NOT_FOUND", "resource not found")
            names = api.requested(obj, list_param(request, "properties"))
            if id_property:
                names = list(dict.fromkeys([id_property, *names]))
            return 200, self._shown(request, obj, record, names)

    async def _update(
        self, request: Request, obj: ObjectDef, key: str, id_property: str | None
    ) -> Reply:
        wanted = await body(request)
        properties = wanted.get("properties") if isinstance(wanted, Mapping) else None
        item: dict[str, Any] = {"id": key, "properties": properties or {}}
        if id_property:
            item["idProperty"] = id_property
        with self.store.lock:
            status, reply = batch.batch_update(self.store, obj, {"inputs": [item]}, self.single)
        if status == 207:
            raise ApiError(404, "OBJECT_NOT_FOUND", "resource not found")
        return 200, reply["results"][0]

    def _archive_many(self, obj: ObjectDef, wanted: Any) -> Reply:
        """Archive the records named (missing ones are no error): 204."""
        for item in api.batch_inputs(wanted):
            record = self.store.get(obj, item.get("id"))
            if record is not None:
                self.store.archive(obj, record)
        return 204, None

    def _shown(
        self, request: Request, obj: ObjectDef, record: Record, names: list[str]
    ) -> dict[str, Any]:
        shown = api.render(record, names)
        wanted = list_param(request, "associations")
        if wanted:
            found = api.associated_ids(self.store, obj, record.id, wanted)
            if found:
                shown["associations"] = found
        return shown

    # associations v4 ------------------------------------------------------------------------

    async def association_batch(self, request: Request) -> Reply:
        """``POST /crm/v4/associations/{from}/{to}/batch/read``."""
        from_obj, to_obj = self._pair(request)
        wanted = await body(request)
        with self.store.lock:
            return api.association_batch_read(self.store, from_obj, to_obj, wanted)

    async def association_list(self, request: Request) -> Reply:
        """``GET /crm/v4/objects/{from}/{id}/associations/{to}``."""
        from_obj, to_obj = self._pair(request)
        with self.store.lock:
            return api.association_list(
                self.store, from_obj, request.path_params["from_id"], to_obj
            )

    async def associate_default(self, request: Request) -> Reply:
        """``PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{id}``."""
        from_obj, to_obj = self._pair(request)
        params = request.path_params
        with self.store.lock:
            return api.associate_default(
                self.store, from_obj, params["from_id"], to_obj, params["to_id"]
            )

    async def association(self, request: Request) -> Reply:
        """Create (``PUT``, with types) or remove (``DELETE``) the associations of two records."""
        from_obj, to_obj = self._pair(request)
        params = request.path_params
        if request.method == "DELETE":
            with self.store.lock:
                return api.dissociate(
                    self.store, from_obj, params["from_id"], to_obj, params["to_id"]
                )
        wanted = await body(request)
        with self.store.lock:
            return api.associate_labelled(
                self.store, from_obj, params["from_id"], to_obj, params["to_id"], wanted
            )

    @staticmethod
    def _pair(request: Request) -> tuple[ObjectDef, ObjectDef]:
        params = request.path_params
        return api.object_or_error(params["from_type"]), api.object_or_error(params["to_type"])
