"""PII protection: the catalog of personal data, and detection and redaction of free text.

Presidio pulls in tldextract, which fetches the public-suffix list from the internet at
first use unless told otherwise: an empty URL list makes it use the snapshot in its wheel.
Set here, before any module of this package imports Presidio.
"""

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
