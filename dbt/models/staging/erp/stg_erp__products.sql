with source as (
    select * from {{ source('erp', 'products') }}
    {{ latest_version('sku') }}
)

select
    sku,
    name as product_name,
    lower(category) as category,
    list_price,
    {{ parse_ts('updated_at') }} as updated_at,
    _batch_id,
    _ingested_at
from source
