"""Prefect flows and tasks that carry out rollouts. The only package that imports prefect."""
