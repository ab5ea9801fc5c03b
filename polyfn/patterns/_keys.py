"""Reversible escaping of store keys for services that forbid characters in their keys.

Azure Table keys may not contain ``/ \\ # ?`` nor control characters; Firestore document
IDs may not contain ``/``, be ``.`` or ``..`` or look like ``__name__``. One injective
encoding serves both: every character outside a small ASCII set, and ``%`` itself, becomes
``%XX`` per UTF-8 byte (percent-encoding), so distinct keys never collide and the escaped
key is plain ASCII. ``urllib.parse.unquote`` gives the original back.
"""

from __future__ import annotations

from urllib.parse import quote

# Kept as they are: letters, digits and punctuation that neither service reserves. Typical
# keys ("idempotency:queue:orders:m-1", "breaker:svc") stay readable.
_SAFE = "-_.:@!$&'()*+,;=~"


def escape_key(key: str) -> str:
    """``key`` percent-encoded (UTF-8) outside ``[A-Za-z0-9]`` and ``-_.:@!$&'()*+,;=~``."""
    if not isinstance(key, str):
        raise TypeError(f"store keys are strings, not {type(key).__name__}")
    return quote(key, safe=_SAFE)
