"""``hub serve``: the products' webhooks as real-time triggers of the handoffs.

Plain Python and Starlette, no Prefect: :mod:`.signatures` checks that a
delivery is authentic and fresh, :mod:`.seen` that it is no replay (in the
state store), :mod:`.events` turns it into changed record ids, :mod:`.worker`
runs :mod:`.dispatch` in the background, and :mod:`.app` is the ASGI app that
ties them together, reading bodies with :mod:`.body`; :mod:`.server` runs it
under uvicorn so that slow clients cannot hold it.
"""
