"""``hub serve``: the products' webhooks as real-time triggers of the handoffs.

Plain Python and Starlette, no Prefect. What is a product's own (its
signature, its payloads, a handshake, its config section) is its connector's:
a :class:`hub.connector.WebhookSource` builds a receiver (:mod:`.source`)
from its section (:mod:`.settings`). The rest is here, the same for every
product: :mod:`.app` is the ASGI app that routes ``/webhooks/<connector>`` to
its receiver, reading bodies with :mod:`.body`; :mod:`.seen` tells a replay
(in the state store), :mod:`.signatures` holds the pieces the receivers'
checks share, :mod:`.events` the changed record ids they return; :mod:`.worker`
runs :mod:`.dispatch` in the background; :mod:`.server` runs the app under
uvicorn so that slow clients cannot hold it.
"""
