{#- The customer life narrative: every interaction across sources, in time order. `ref` is
    <source>/<entity>/<key> of the source record the event came from. -#}
{{ config(tags=['gold'], post_hook=["{{ expose_in_main() }}"]) }}

with events as (
    select * from {{ ref('int_customer_events') }}
)

select
    customer_id,
    ts,
    source,
    event_type,
    summary,
    ref
from events
order by customer_id, ts, ref
