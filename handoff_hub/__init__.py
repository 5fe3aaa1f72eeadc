"""Handoff Hub: links the CRM where sales lives with the project tool where delivery lives.

The distribution installs its parts under this one name: ``handoff_hub.hub`` (the core),
``handoff_hub.connectors``, ``handoff_hub.flows`` and ``handoff_hub.sandboxes``. In the
repository they are the top-level folders of the same names; this folder links to them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("handoff-hub")
except PackageNotFoundError:  # a checkout used without installing
    __version__ = "0+unknown"
