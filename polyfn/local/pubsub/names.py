"""Pub/Sub resource names (``projects/P/topics/T``, ``projects/P/subscriptions/S``) and the
rules the service applies to them, so that the emulator refuses what Google would."""

from __future__ import annotations

import re

from .errors import BrokerError

# Pub/Sub resource ids: 3-255 characters, a letter first, then letters, digits and - _ . ~ + %;
# never starting with "goog" (Google's "Resource names" page for Pub/Sub).
_ID = r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}"
_PROJECT = r"[^/]+"
TOPIC = re.compile(rf"projects/(?P<project>{_PROJECT})/topics/(?P<id>{_ID})\Z")
SUBSCRIPTION = re.compile(rf"projects/(?P<project>{_PROJECT})/subscriptions/(?P<id>{_ID})\Z")
PROJECT = re.compile(rf"projects/(?P<project>{_PROJECT})\Z")
_FORMS = {
    "topic": "projects/PROJECT/topics/ID",
    "subscription": "projects/PROJECT/subscriptions/ID",
    "project": "projects/PROJECT",
}
# What a subscription's topic becomes when its topic is deleted (as the service reports it).
DELETED_TOPIC = "_deleted-topic_"


def _check(pattern: re.Pattern[str], name: str, kind: str) -> re.Match[str]:
    m = pattern.match(name or "")
    if m is None or ("id" in m.groupdict() and m["id"].lower().startswith("goog")):
        raise BrokerError(
            "INVALID_ARGUMENT",
            f"Invalid {kind} name {name!r}: expected {_FORMS[kind]}, the ID being 3-255 "
            "letters, digits or -_.~+% starting with a letter (not 'goog')",
        )
    return m


def topic(name: str) -> str:
    _check(TOPIC, name, "topic")
    return name


def subscription(name: str) -> str:
    _check(SUBSCRIPTION, name, "subscription")
    return name


def project(name: str) -> str:
    """The project id of ``projects/P``."""
    return _check(PROJECT, name, "project")["project"]


def project_of(name: str) -> str:
    return name.split("/", 2)[1]


def short(name: str) -> str:
    """The id at the end of a resource name."""
    return name.rsplit("/", 1)[-1]
