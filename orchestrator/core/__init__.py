"""The small core every domain package builds on: the clock, settings, database engines, typed errors,
the vocabulary (enums), every table (``models``), the transaction and compare-and-set unit, the audit
ledger, the outbox and its topics, and the access policy every door calls.

The core imports no domain package; ``tests/architecture/test_import_direction.py`` keeps it so.
"""
