"""Local emulators of the products' REST APIs, apart from the connectors.

``kit/`` holds what every emulator shares (faults, journal, in-process
transport, org profiles, the server that puts one on a localhost port, the
connector contract suite); ``<product>/`` holds one product's emulator, its
seeded data and org profile, and its answers to the contract suite. A
connector never imports a sandbox and a sandbox never imports a connector:
they meet only on the wire.
"""
