with source as (
    select * from {{ source('crm', 'accounts') }}
    {{ latest_version('id') }}
)

select
    id as account_id,
    hub_clean_name(name) as account_name,
    lower(trim(domain)) as domain,
    lower(industry) as industry,
    hub_country(country) as country,
    owner as owner_id,
    {{ parse_ts('created_at') }} as created_at,
    {{ parse_ts('updated_at') }} as updated_at,
    _batch_id,
    _ingested_at
from source
