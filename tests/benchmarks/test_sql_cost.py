"""The request cost counter counts the request, not the Slack processors polling beside it: a poll
that lands during a counted check-off made `test_checkoff_cost` fail now and then on a busy machine."""

import threading

from sqlalchemy import Engine, text

from benchmarks._sql_cost import counting


def _query(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("SELECT 1"))


def test_a_slack_processor_threads_poll_is_not_counted_and_the_request_threads_query_is(engine: Engine) -> None:
    with counting() as alone:
        _query(engine)
    with counting() as counted:
        poller = threading.Thread(target=_query, args=(engine,), name="slack-work-0")
        poller.start()
        poller.join()
        _query(engine)
    assert alone.cost.transactions == 1
    assert counted.cost == alone.cost
