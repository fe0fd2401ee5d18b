"""Value standardisation: the one rule per kind of value, for dbt staging and identity resolution.

``warehouse.dbt_plugin`` registers these functions as DuckDB UDFs for staging, and
``identity.canonical`` applies them to any input file, so a value means the same on both
paths (docs/standardisation.md). Each function is pure and cached: source data repeats the
same phones, emails and names many times.

- ``names``: clean text (NFKC, single spaces), names, pinyin;
- ``contact``: emails, phones in E.164;
- ``identifiers``: countries, national IDs, social handles;
- ``dates``: dates and birth dates, with the day/month order by country.
"""

from identity.standardise.contact import email, phone_e164
from identity.standardise.dates import birth_date, birth_date_issue, date
from identity.standardise.identifiers import country, national_id, social_handle
from identity.standardise.names import clean_name, clean_text, has_cjk, pinyin

__all__ = [
    "birth_date", "birth_date_issue", "clean_name", "clean_text", "country", "date", "email",
    "has_cjk", "national_id", "phone_e164", "pinyin", "social_handle",
]
