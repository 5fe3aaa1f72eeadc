"""What every product sandbox is built from.

Injected faults, the journal of calls, an in-process transport, the JSON
response and the protocol a sandbox meets; what is product-specific (paths,
payloads, error bodies, auth) stays in the product's package.
"""

from handoff_hub.sandboxes.kit.asgi import ASGIApp, ProductJSONResponse
from handoff_hub.sandboxes.kit.faults import (
    FAULT_KINDS,
    FaultMiddleware,
    Faults,
    SandboxFault,
    WindowLimiter,
)
from handoff_hub.sandboxes.kit.journal import Call, CallJournal
from handoff_hub.sandboxes.kit.sandbox import Sandbox
from handoff_hub.sandboxes.kit.transport import SyncASGITransport

__all__ = [
    "FAULT_KINDS",
    "ASGIApp",
    "Call",
    "CallJournal",
    "FaultMiddleware",
    "Faults",
    "ProductJSONResponse",
    "Sandbox",
    "SandboxFault",
    "SyncASGITransport",
    "WindowLimiter",
]
