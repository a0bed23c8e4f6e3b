"""Checklist items: their state machine, every change an owner or product ops makes (check, reopen,
block, waive...), overdue reminders, and the read models of items.
"""
