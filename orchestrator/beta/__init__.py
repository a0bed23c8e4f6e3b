"""Beta programs: cohorts and enrollment, feedback and its ranking, exit criteria, the guardrail
that halts a ramping region on a severity-1 report, and the weekly feedback digest.
"""
