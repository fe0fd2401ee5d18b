with source as (
    select * from {{ source('iot', 'telemetry') }}
)

select
    event_id,
    device_id,
    {{ parse_ts('ts') }} as ts,
    try_cast(json_extract(metrics, '$.temp_c') as double) as temp_c,
    try_cast(json_extract(metrics, '$.power_w') as double) as power_w,
    try_cast(json_extract(metrics, '$.usage_min') as double) as usage_min,
    coalesce(json_array_length(alerts), 0) as alert_count,
    alerts,
    metrics,
    _batch_id,
    _ingested_at
from source
