"""Send a report bigger than a queue message can be: the claim-check pattern.

``POST /reports`` builds a CSV report (``{"id": "r-1", "rows": 17000}`` is about
500 KiB) and queues it. ``@offload_large_payloads("payloads", ...)`` puts any body over
32 KiB into the bucket ``payloads`` and sends a small message instead, whose ``dataref``
attribute (the CloudEvents extension) names the object. ``file_report`` is wrapped in
``@resolve_large_payloads``: it gets the full report back, as if it had travelled in the
message, and writes a summary to the bucket ``report-index``.

32 KiB, not each service's own limit: the same behaviour on every cloud, under Azure
Queue Storage's 64 KiB (48 KiB of body once base64-encoded) and small enough to keep
queue messages cheap. Leave the threshold out to offload only over the target service's
limit (SQS 1 MiB, Pub/Sub 10 MB: see docs/capabilities.md).
"""

from __future__ import annotations

import hashlib

from polyfn import App, Context, HttpRequest, QueueMessage
from polyfn.patterns import offload_large_payloads, resolve_large_payloads

app = App("reports")

THRESHOLD = 32 * 1024


def build_report(report_id: str, rows: int) -> bytes:
    """A deterministic CSV of ``rows`` lines (30 bytes each)."""
    lines = ["report,row,sensor,reading"]
    lines += [
        f"{report_id},{n:06d},sensor-{n % 97:02d},{(n * 7919) % 10007:05d}.25" for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


@app.post("/reports")
@app.outputs(queues=["reports"], buckets=["payloads"])
@offload_large_payloads("payloads", threshold=THRESHOLD)
def request_report(req: HttpRequest, ctx: Context) -> dict[str, object]:
    ask = req.json()
    report = build_report(ask["id"], int(ask.get("rows", 17000)))
    ctx.outputs.send("reports", report, attributes={"report": ask["id"]})
    return {"id": ask["id"], "bytes": len(report)}


@app.queue("reports")
@app.outputs(buckets=["report-index"])
@resolve_large_payloads
def file_report(msg: QueueMessage, ctx: Context) -> None:
    report = msg.body  # the whole report, read back from the bucket
    summary = {
        "bytes": len(report),
        "sha256": hashlib.sha256(report).hexdigest(),
        "rows": report.count(b"\n") - 1,
        "dataref": msg.extensions.get("dataref"),  # where it was read from, if offloaded
    }
    report_id = report.split(b"\n", 2)[1].split(b",", 1)[0].decode()
    ctx.logger.info("report %s: %d bytes, %d rows", report_id, summary["bytes"], summary["rows"])
    ctx.outputs.put("report-index", f"{report_id}.json", summary, content_type="application/json")
