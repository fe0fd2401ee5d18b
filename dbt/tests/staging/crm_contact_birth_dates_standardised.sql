{#- Birth dates that staging set to null: unparseable, ambiguous (neither the country nor the
    value decides day and month) or implausible. A warning with the count, never a failure:
    the records stay, without a birth date (docs/standardisation.md). -#}
{{ config(severity='warn') }}

select contact_id, birth_date_issue
from {{ ref('stg_crm__contacts') }}
where birth_date_issue is not null
