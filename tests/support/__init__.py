"""Helpers shared by the tests; nothing here is collected as a test.

- ``factories``: test data built through the real services (launches, items, phase dates).
- ``fake_slack``: a loopback fake of the Slack Web API (which can also stop listening for a while),
  the ``fake_slack`` fixture, and the real transport pointed at it.
- ``api``: the app served over real HTTP, routes read from the app, problem+json checks.
- ``flows``: launches ready for the suite's Prefect server, the worker drained, a region's rollout
  read fresh, and polling with a deadline.
- ``checklists``: a small template library on disk.
- ``db``: reads that see what the database has now and end with a commit (``fresh``, ``rows``,
  ``ledger``, ``audit``, ``outbox``, ``rollout_id``, ``gate_of``).
- ``rollouts``: one region driven step by step with the clock frozen (``spec_launch``, ``step_now``,
  ``approve``, ``go_live``, ``target_rows``...).
- ``race``: writers released together on their own sessions and threads.
- ``reporting``: the reporting tests' instant and actor, and a region's digest line.
- ``slack_http``: signed requests to the Slack endpoints, the recorder behind views.open and
  response_url, and the payloads Slack sends.
- ``slack_example``: Slack's documented request-signing example.
- ``beta``: beta launches, cohorts and feedback built through the services.
- ``processes``: the installed ``launchdeck`` command, for tests that start it.
- ``nodelay_app``: an app that reports whether Nagle's algorithm is off (for ``launchdeck serve``).
- ``pg_cluster``: a throwaway PostgreSQL cluster of the installed server (initdb/pg_ctl), to stop
  and start under load without touching the suite's shared server.
- ``chaos``: the chaos tests' outage lengths, worker processes, a product-ops token and reads of a
  rollout's steps and transitions.
"""
