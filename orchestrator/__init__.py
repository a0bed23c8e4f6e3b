"""Domain core of launchdeck: a small ``core`` (schema, transaction unit, ledger, outbox, access
policy, settings, clock) and one package per domain on top of it (directory, gates, rollouts,
launches, items, beta, reporting), each with its services, read queries and rules.

This package imports no other launchdeck package; outer layers implement its Protocols.
"""
