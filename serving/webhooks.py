"""Webhook deliveries: a JSON body, signed with HMAC-SHA256, carrying its idempotency key.

Receivers check `X-Cx-Signature: sha256=<hex>` against the shared secret (`CX_WEBHOOK_SECRET`) and
keep one delivery per `Idempotency-Key`: a delivery may arrive more than once.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request

SECRET_VARIABLE = "CX_WEBHOOK_SECRET"
SIGNATURE_HEADER = "X-Cx-Signature"
KEY_HEADER = "Idempotency-Key"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: following one would turn the POST into a GET without its body."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether `signature` is the one `secret` gives `body` (constant time, for receivers)."""
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)


def post(
    url: str, body: bytes, key: str, secret: str | None, timeout_s: float, attempt: int = 1
) -> str | None:
    """POST one delivery; None when the receiver accepted it (2xx), else why not."""
    headers = {"Content-Type": "application/json", KEY_HEADER: key, "X-Cx-Attempt": str(attempt)}
    headers["User-Agent"] = "cxpredict-webhooks"
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:  # rules accept http(s) URLs only
            response.read(65_536)
            return None
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {exc.reason}"
    except (OSError, ValueError) as exc:  # refused, reset, timed out, bad URL
        return f"{type(exc).__name__}: {exc}"
