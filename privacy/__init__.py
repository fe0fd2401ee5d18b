"""PII protection: the catalog of personal data, detection and redaction of free text, and the
keys (``privacy.keys``)."""
