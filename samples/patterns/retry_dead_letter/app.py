"""Two ways a handler copes with failure.

``export_reading`` (a queue) retries a transient error in process: the warehouse's
``ConnectionError`` gets 3 attempts, with short exponential backoff, before the queue's
own redelivery (and then its dead-letter queue) takes over.

``count_click`` (an ordered stream: Kinesis, Event Hubs, Pub/Sub with ordering keys)
cannot let a bad record block its shard: ``@dead_letter`` lets it fail and be retried
until it has failed 3 times, then parks it on the queue ``poison`` with why it failed
(``polyfn-*`` attributes) and returns, so the next record runs. Streams keep no delivery
count, so failures are counted in the app's store ``dead-letter-counts``.
"""

from __future__ import annotations

from polyfn import App, Context, QueueMessage
from polyfn.patterns import RetryPolicy, dead_letter, idempotent, retry

app = App("telemetry")


class Warehouse:
    """Stands in for a database whose connections drop now and then."""

    def __init__(self, drops: int = 0) -> None:
        self.drops = drops  # how many of the next writes fail
        self.attempts = 0
        self.rows: list[dict[str, object]] = []

    def write(self, row: dict[str, object]) -> None:
        self.attempts += 1
        if self.drops > 0:
            self.drops -= 1
            raise ConnectionError("warehouse connection reset")
        self.rows.append(row)


WAREHOUSE = Warehouse(drops=2)  # a cold connection: the first two writes fail
CLICKS: dict[str, int] = {}


@app.queue("readings", max_deliveries=5)
@retry(RetryPolicy(max_attempts=3, initial_delay=0.05, retry_on=(ConnectionError,)))
def export_reading(msg: QueueMessage, ctx: Context) -> None:
    WAREHOUSE.write(msg.json())


@app.stream("clicks")
@app.outputs(queues=["poison"])
# Event Hubs has no partial batch failure: a failure replays the whole batch, so records
# already counted would count again (docs/capabilities.md). Once per record, parked or not:
@idempotent(app.store("clicks-seen"), expires_after=86400)
@dead_letter("poison", max_attempts=3, store=app.store("dead-letter-counts"))
def count_click(record: QueueMessage, ctx: Context) -> None:
    click = record.json()  # a record that is not JSON raises: after 3 tries it is parked
    CLICKS[click["page"]] = CLICKS.get(click["page"], 0) + 1
