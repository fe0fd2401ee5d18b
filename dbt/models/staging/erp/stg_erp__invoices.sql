with source as (
    select * from {{ source('erp', 'invoices') }}
    {{ latest_version('invoice_no') }}
)

select
    invoice_no,
    order_no,
    customer_no,
    {{ parse_ts('invoice_date') }} as invoiced_at,
    amount,
    upper(currency) as currency,
    {{ parse_ts('paid_at') }} as paid_at,
    {{ parse_ts('updated_at') }} as updated_at,
    _batch_id,
    _ingested_at
from source
