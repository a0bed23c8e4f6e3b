"""What leadership reads: RAG rules and the daily digest, RAG history, the dashboard's read models,
burndowns, readiness per team, slips, the decision log and the audit trail.
"""
