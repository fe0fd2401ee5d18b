with source as (
    select * from {{ source('erp', 'order_lines') }}
    {{ latest_version("order_no, line_no") }}
)

select
    order_no || '-' || line_no::varchar as order_line_id,
    order_no,
    line_no,
    sku,
    quantity,
    unit_price,
    quantity * unit_price as line_amount,
    {{ parse_ts('updated_at') }} as updated_at,
    _batch_id,
    _ingested_at
from source
