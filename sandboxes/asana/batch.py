"""The batch API of the Asana sandbox (``POST /batch``).

At most 10 actions, at least one; each names a ``relative_path`` (no query
string: a GET's parameters go in ``data``, paging and ``fields`` in
``options``) and a ``method``. Every action is answered on its own, in action
order, with the status, headers and body the request alone would have had;
the batch itself answers 200. Batches do not nest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff_hub.sandboxes.asana.router import Call, Reply, Router, error

__all__ = ["BATCH_LIMIT", "actions_of", "run_batch"]

BATCH_LIMIT = 10
_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"})


def actions_of(call: Call) -> tuple[list[Any] | None, Reply | None]:
    """The batch's actions, or the 400 Asana answers for a malformed batch."""
    data = call.data
    actions = data.get("actions") if isinstance(data, Mapping) else None
    if not isinstance(actions, list) or not actions:
        return None, error(400, "actions: Missing input")
    if len(actions) > BATCH_LIMIT:
        return None, error(
            400, f"actions: A batch request may contain at most {BATCH_LIMIT} actions"
        )
    return actions, None


def run_batch(router: Router, call: Call, actions: list[Any]) -> Reply:
    """Run every action through ``router``; one result per action, in order."""
    return 200, {"data": [_run(router, call, a) for a in actions]}


def _run(router: Router, batch: Call, act: Any) -> dict[str, Any]:
    refused = _check(act)
    if refused is not None:
        return _result(*refused)
    method = str(act["method"]).upper()
    path = str(act["relative_path"]).rstrip("/") or "/"
    options = act.get("options") if isinstance(act.get("options"), Mapping) else {}
    data = act.get("data") if isinstance(act.get("data"), Mapping) else {}
    params = {k: _text(v) for k, v in (data.items() if method == "GET" else ())}
    for key in ("limit", "offset"):
        if options.get(key) is not None:
            params[key] = _text(options[key])
    if options.get("fields"):
        params["opt_fields"] = ",".join(str(f) for f in options["fields"])
    body = None if method == "GET" else {"data": data}
    status, answer = router.dispatch(Call(method, path, params, body, batch.base, in_batch=True))
    headers: dict[str, str] = {}
    if status == 201 and isinstance(answer, Mapping):
        gid = (answer.get("data") or {}).get("gid")
        if gid:
            headers["location"] = f"{path}/{gid}"
    return _result(status, answer, headers)


def _check(act: Any) -> Reply | None:
    if not isinstance(act, Mapping):
        return error(400, "action: Expected an object")
    if str(act.get("method", "")).upper() not in _METHODS:
        return error(400, f"method: Not one of {sorted(m.lower() for m in _METHODS)}")
    path = act.get("relative_path")
    if not isinstance(path, str) or not path.startswith("/"):
        return error(400, "relative_path: Missing input")
    if "?" in path:
        return error(400, "relative_path: Query parameters are not accepted; put them in data")
    if path.rstrip("/") == "/batch":
        return error(400, "relative_path: Batch requests cannot be nested")
    return None


def _result(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status_code": status, "headers": headers or {}, "body": body}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
