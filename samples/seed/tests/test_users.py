"""The users API: create / read / update / delete on the ``users`` store, with its
conflicts (a duplicate id; an edit over a version that moved)."""

from __future__ import annotations

import pytest

ADA = {"id": "ada", "email": "ada@example.com", "name": "Ada"}


@pytest.mark.polyfn_providers
def test_users_crud(polyfn):
    created = polyfn.http("POST", "/users", json=ADA)
    assert created.status == 201, created.body
    assert created.json() == {**ADA, "version": 1}
    assert created.headers["location"] == "/users/ada"

    got = polyfn.http("GET", "/users/ada")
    assert (got.status, got.json()) == (200, {**ADA, "version": 1})

    edited = polyfn.http("PUT", "/users/ada", json={"version": 1, "name": "Ada L."})
    assert edited.status == 200, edited.body
    assert edited.json() == {**ADA, "name": "Ada L.", "version": 2}
    assert polyfn.http("GET", "/users/ada").json()["version"] == 2

    assert polyfn.http("DELETE", "/users/ada").status == 204
    assert polyfn.http("GET", "/users/ada").status == 404
    assert polyfn.http("DELETE", "/users/ada").status == 404
    polyfn.idle()


@pytest.mark.polyfn_providers
def test_conflicts_and_validation(polyfn):
    assert polyfn.http("POST", "/users", json=ADA).status == 201
    duplicate = polyfn.http("POST", "/users", json={**ADA, "name": "Other"})
    assert duplicate.status == 409
    assert "already exists" in duplicate.json()["error"]

    # Two clients read version 1; the first edit wins, the second is refused.
    first = polyfn.http("PUT", "/users/ada", json={"version": 1, "name": "first"})
    second = polyfn.http("PUT", "/users/ada", json={"version": 1, "name": "second"})
    assert (first.status, second.status) == (200, 409)
    assert polyfn.http("GET", "/users/ada").json()["name"] == "first"

    bad = polyfn.http("POST", "/users", json={"id": "x", "email": "not-an-address", "name": "X"})
    assert bad.status == 400 and "email" in bad.json()["error"]
    assert polyfn.http("PUT", "/users/nobody", json={"version": 1}).status == 404
    polyfn.idle()
    assert len(polyfn.published("user-created")) == 1  # only the one that was created
