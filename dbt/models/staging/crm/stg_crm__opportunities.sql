with source as (
    select * from {{ source('crm', 'opportunities') }}
    {{ latest_version('id') }}
)

select
    id as opportunity_id,
    account_id,
    contact_id,
    name as opportunity_name,
    lower(stage) as stage,
    lower(stage) in ('closed_won', 'closed_lost') as is_closed,
    amount,
    upper(currency) as currency,
    {{ parse_date('close_date') }} as close_date,
    {{ parse_ts('created_at') }} as created_at,
    {{ parse_ts('updated_at') }} as updated_at,
    _batch_id,
    _ingested_at
from source
