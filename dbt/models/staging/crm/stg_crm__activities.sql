with source as (
    select * from {{ source('crm', 'activities') }}
    {{ latest_version('id') }}
),

opened as (
    select {{ opened('crm/activities', 'id', ['subject', 'body']) }}
    from source
)

select
    id as activity_id,
    contact_id,
    lower(type) as activity_type,
    lower(type) = 'ticket' as is_ticket,
    subject,
    body,
    {{ parse_ts('occurred_at') }} as occurred_at,
    {{ parse_ts('updated_at') }} as updated_at,
    _batch_id,
    _ingested_at
from opened
