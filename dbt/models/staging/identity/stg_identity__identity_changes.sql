{#- Every change of a record's customer_id across identity runs, as the Python asset appends them. -#}
with source as (
    select * from {{ source('identity', 'identity_changes') }}
)

select
    run_id,
    ts,
    event,
    customer_id,
    other_customer_id,
    source,
    source_record_id
from source
