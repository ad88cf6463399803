"""Text understanding: PII redaction, a local encoder with a cache, satisfaction heads, themes, scoring.

Every text is redacted before it is encoded, cached, stored or shown.
"""
