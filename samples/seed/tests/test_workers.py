"""The email worker's partial failures and dead letters, the thumbnailer and the nightly
report."""

from __future__ import annotations

import pytest

from samples.seed.images import dimensions, jpeg_header, png_header


@pytest.mark.polyfn_providers
def test_one_bad_email_in_a_batch_is_retried_alone_then_dead_lettered(polyfn):
    good = [{"to": f"u{i}@example.com", "template": "welcome", "user": f"u{i}"} for i in range(3)]
    bad = {"to": "nobody", "template": "welcome", "user": "x"}
    for body in (good[0], bad, *good[1:]):
        polyfn.send("emails", body)

    polyfn.settle(check=False)  # jumps the virtual clock over each retry's backoff

    (dead,) = polyfn.dead_letters("emails")
    assert dead.json() == bad
    assert len(polyfn.objects("outbox", "sent/")) == 3  # every good one, once
    failed = [i for r in polyfn.failures for i in r.failed]
    # The bad one, on each of its 3 deliveries (max_deliveries=3; on Google, Pub/Sub's
    # dead-letter policy takes 5 attempts at least).
    attempts = 5 if polyfn.provider == "gcp" else 3
    assert len(failed) == attempts and len(set(failed)) == 1
    assert sum(len(r.ids) - len(r.failed) for r in polyfn.deliveries_of("send_email")) == 3


@pytest.mark.polyfn_providers
def test_an_uploaded_image_gets_a_thumbnail_record(polyfn):
    polyfn.put("uploads", "images/ada/avatar.png", png_header(640, 480), content_type="image/png")
    polyfn.put("uploads", "images/cat.jpg", jpeg_header(300, 1200), content_type="image/jpeg")
    polyfn.put("uploads", "docs/readme.png", png_header(1, 1))  # outside images/: no trigger
    polyfn.put("uploads", "images/notes.txt", b"hello")  # neither .jpg nor .png
    polyfn.idle()

    assert set(polyfn.objects("thumbnails")) == {"ada/avatar.json", "cat.json"}
    avatar = polyfn.object_json("thumbnails", "ada/avatar.json")
    assert avatar["source"] == "uploads/images/ada/avatar.png"
    assert (avatar["format"], avatar["width"], avatar["height"]) == ("png", 640, 480)
    assert avatar["thumbnail"] == {"width": 128, "height": 96}
    cat = polyfn.object_json("thumbnails", "cat.json")
    assert (cat["format"], cat["thumbnail"]) == ("jpeg", {"width": 32, "height": 128})
    assert len(polyfn.deliveries_of("make_thumbnail")) == 2


@pytest.mark.polyfn_providers
def test_the_nightly_report_counts_from_the_stores(polyfn):
    for i in range(2):
        user = {"id": f"u{i}", "email": f"u{i}@example.com", "name": f"U{i}"}
        assert polyfn.http("POST", "/users", json=user).status == 201
    polyfn.put("uploads", "images/a.png", png_header(10, 10))
    polyfn.idle()

    polyfn.advance("1d")
    polyfn.idle()

    (report,) = polyfn.objects("reports").values()
    assert b'"counts":{"users":2,"emails":2,"thumbnails":1}' in report
    assert len(polyfn.deliveries_of("nightly_report")) == 1


def test_image_headers():
    assert dimensions(png_header(3, 4)) == ("png", 3, 4)
    assert dimensions(jpeg_header(5, 6)) == ("jpeg", 5, 6)
    assert dimensions(b"GIF89a") is None
