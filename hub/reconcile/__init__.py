"""Reconciliation: prove the CRM and the project tool agree, list where they don't, fix it."""
