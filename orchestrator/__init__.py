"""Domain core of launchdeck: models, services, rules, settings and persistence.

This package imports no other launchdeck package; outer layers implement its Protocols.
"""
