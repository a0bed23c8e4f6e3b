"""What must hold before a region enters a phase: opening and passing gates, and each kind's
condition (checklist, approval votes, time with windows and freezes, beta exit criteria).
"""
