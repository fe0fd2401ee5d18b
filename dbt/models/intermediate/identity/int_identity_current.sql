{#- The current identity assignment of every source record (valid_to is null). Features and
    the timeline use the current graph for all of history: see docs/gold.md, "identity over time". -#}
with graph as (
    select * from {{ ref('stg_identity__identity_graph') }}
)

select
    source,
    source_record_id,
    customer_id,
    match_probability
from graph
where valid_to is null
