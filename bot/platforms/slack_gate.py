"""What a Slack HTTP request must pass before Bolt sees it: well-formed signing headers, and not a
request already handled (a retry or a replay).

* Bolt's signature check raises on a timestamp that is not a number (``int("abc")``) and slack-sdk's
  ``hmac.compare_digest`` on a signature with non-ASCII characters: both came out as HTTP 500 with a
  traceback in the log. Such headers are refused here with 401 and one WARNING line.
* A signed request is valid for 300 s, so anyone who saw one could send it again within that window,
  and Slack itself sends a request again (``X-Slack-Retry-Num``) when an answer was late. Either would
  apply ``/subscribe`` twice. A correctly signed request whose body was already handled within the
  window is acknowledged (200, empty) and not handled again. The body identifies a request: a slash
  command's carries a ``trigger_id`` unique to the invocation, an interaction's its ``trigger_id`` /
  ``action_ts``, an event's its ``event_id``, and a retry or replay resends the same body.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from slack_sdk.signature import SignatureVerifier

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
RETRY_HEADER = "X-Slack-Retry-Num"
WINDOW = 300 + 60  # seconds Slack's signature stays valid, plus clock skew
MAX_REMEMBERED = 20_000  # request bodies remembered at most (the oldest forgotten first)

PASS, MALFORMED, DUPLICATE = "pass", "malformed", "duplicate"


class SlackRequestGate:
    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()  # body digest -> forget after

    def check(self, headers: Mapping[str, str], body: bytes) -> str:
        """:data:`MALFORMED` (refuse with 401), :data:`DUPLICATE` (acknowledge, do nothing) or
        :data:`PASS` (hand to Bolt, which checks the signature as always)."""
        timestamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if timestamp is None or signature is None or self._verifier is None:
            return PASS  # Bolt refuses an unsigned request (401) or has no signing secret to check
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not (
            signature.isascii() and signature.isprintable()
        ):
            return MALFORMED
        if not self._verifier.is_valid(body, timestamp, signature):
            return PASS  # forged or stale: Bolt refuses it and says so
        return DUPLICATE if self._already_seen(hashlib.sha256(body).digest()) else PASS

    def _already_seen(self, key: bytes) -> bool:
        now = self._clock()
        seen = self._seen
        while seen:
            oldest, forget_after = next(iter(seen.items()))
            if forget_after > now and len(seen) < MAX_REMEMBERED:
                break
            del seen[oldest]
        if key in seen:
            return True
        seen[key] = now + WINDOW
        return False
