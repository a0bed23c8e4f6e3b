"""Launches as a whole: creating one from a spec, kicking it off, rescheduling phases, bringing
its items up to newer templates, and the read models of launches.
"""
