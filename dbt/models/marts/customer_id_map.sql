{#- Every customer_id ever issued and the customer it stands for now. A merge keeps the
    older ID and retires the other for good (DESIGN.md §4), so systems that stored a
    retired ID (a CRM field, an ML label, a support ticket) look it up here; merges chain
    (A into B, later B into C), so a retired ID follows them to the end. -#}
with recursive changes as (
    select * from {{ ref('stg_identity__identity_changes') }}
),

merges as (
    -- One row per retired ID: a merged ID is never issued again, so it is merged once.
    select
        other_customer_id as customer_id,
        any_value(customer_id) as merged_into,
        min(ts) as merged_at
    from changes
    where event = 'merged'
    group by other_customer_id
),

issued as (
    select distinct customer_id from changes where event in ('created', 'split')
    union
    select customer_id from merges
),

current_ids as (
    select distinct customer_id from {{ ref('int_identity_current') }}
),

followed (customer_id, current_customer_id, hops) as (
    select customer_id, customer_id, 0 from issued
    union all
    select followed.customer_id, merges.merged_into, followed.hops + 1
    from followed
    inner join merges on merges.customer_id = followed.current_customer_id
    where followed.hops < 100
),

ends as (
    select customer_id, arg_max(current_customer_id, hops) as current_customer_id, max(hops) as hops
    from followed
    group by customer_id
)

select
    ends.customer_id,
    case when current_ids.customer_id is not null then ends.current_customer_id end
        as current_customer_id,
    case
        when ends.hops = 0 and current_ids.customer_id is not null then 'current'
        when current_ids.customer_id is not null then 'merged'
        else 'retired'
    end as status,
    merges.merged_into,
    merges.merged_at,
    ends.hops as merges_followed
from ends
left join current_ids on current_ids.customer_id = ends.current_customer_id
left join merges on merges.customer_id = ends.customer_id
