"""Everything Slack-shaped, and the only package that imports slack_sdk (it imports only
``orchestrator`` of ours).

- ``inbound/``: what comes from Slack: signature checks, parsing into typed requests, one module
  per interaction family (``items``, ``feedback``, ``commands``), the replies and modals.
- ``messages/``: what we post, as pure functions from snapshots to Block Kit, one module per
  message family, with the Jinja2 wording in ``messages/templates``.
- ``delivery/``: how it gets there: outbox rows composed into envelopes, delivered once per
  intent through a transport (the Slack Web API, or the console without Slack).
- ``ids.py`` (action ids, button value references) and ``mrkdwn.py`` (escaping and formatting
  text) are shared by both directions.
"""
