"""Prefect flows: thin wrappers that run the hub's handoffs batch by batch.

This is the only package that imports Prefect.
"""
