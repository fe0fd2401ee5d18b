with source as (
    select * from {{ source('erp', 'sales_orders') }}
    {{ latest_version('order_no') }}
)

select
    order_no,
    customer_no,
    {{ parse_ts('order_date') }} as ordered_at,
    lower(status) as status,
    upper(currency) as currency,
    {{ parse_ts('updated_at') }} as updated_at,
    _batch_id,
    _ingested_at
from source
