{#- Identity resolution's record-to-customer assignments, every validity period (current rows
    have valid_to null). A view: the rows are already typed by the Python asset that writes them. -#}
with source as (
    select * from {{ source('identity', 'identity_graph') }}
)

select
    source,
    source_record_id,
    customer_id,
    match_probability,
    valid_from,
    valid_to
from source
