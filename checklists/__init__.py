"""Checklist templates (YAML) and their loader, validator and instantiation.

Pure: imports only orchestrator.
"""
