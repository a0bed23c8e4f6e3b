"""What comes from Slack: a request's signature is checked (``signing``), its body parsed into a
typed request (``parsing``, ``requests``), routed to its family (``routing``: ``items``,
``feedback``; ``commands`` for ``/launch``), carried out by the orchestrator services as the
Slack user's member (``members``), and answered with a ``Reply`` (``replies``, ``modals``);
Slack calls after the answer go through ``follow_ups``."""
