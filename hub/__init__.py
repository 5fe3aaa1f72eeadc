"""Handoff Hub: the core (unified model, mappings, store, engine), free of Prefect."""

__version__ = "0.1.0"

__all__ = ["__version__"]
