{#- Per customer and day on which a stage interval of one of their opportunities began or ended:
    that day's changes and their running totals (cum_*), the stage history's counterpart of
    int_customer_activity_daily. customer_features_daily reads the totals as known before
    as_of_date with an ASOF lookup, so each feature costs the same for any number of days.

    A day counts an interval's entry on entered_at's day and its end on left_at's day: the
    days on which the versions that show them were written (knowledge time, docs/gold.md). -#}
{%- set open_stages = var('crm_open_stages') -%}
{%- set metrics = {
    'open_in_stage': 'bigint',
    'open_in_stage_entered_dayno': 'bigint',
    'stage_changes': 'bigint',
    'stage_advances': 'bigint',
    'closed_opportunities': 'bigint',
    'closed_stage_days': 'double',
    'closed_stages': 'bigint',
} -%}
{%- for stage in open_stages -%}
    {%- do metrics.update({stage ~ '_days': 'double', stage ~ '_intervals': 'bigint'}) -%}
{%- endfor -%}

with intervals as (
    select * from {{ ref('int_opportunity_stage_intervals') }}
    where customer_id is not null
),

keys as (
    select customer_id, any_value(customer_key) as customer_key
    from {{ ref('int_customer_activity_daily') }}
    group by customer_id
),

entered as (
    select
        customer_id,
        entered_at::date as day,
        case when not is_closed then 1 else 0 end as open_in_stage,
        case when not is_closed then date_diff('day', date '1970-01-01', entered_at::date) else 0 end
            as open_in_stage_entered_dayno,
        is_stage_change::integer as stage_changes,
        is_stage_advance::integer as stage_advances,
        is_closed::integer as closed_opportunities,
        coalesce(open_stage_days_before_close, 0) as closed_stage_days,
        coalesce(open_stages_before_close, 0) as closed_stages,
        {%- for stage in open_stages %}
        0.0 as {{ stage }}_days,
        0 as {{ stage }}_intervals{% if not loop.last %},{% endif %}
        {%- endfor %}
    from intervals
),

left_stage as (
    -- The end of an interval, known once a version with another stage was written.
    select
        customer_id,
        left_at::date as day,
        case when not is_closed then -1 else 0 end as open_in_stage,
        case when not is_closed then -date_diff('day', date '1970-01-01', entered_at::date) else 0 end
            as open_in_stage_entered_dayno,
        0 as stage_changes,
        0 as stage_advances,
        0 as closed_opportunities,
        0.0 as closed_stage_days,
        0 as closed_stages,
        {%- for stage in open_stages %}
        case when stage = '{{ stage }}' then duration_days else 0.0 end as {{ stage }}_days,
        case when stage = '{{ stage }}' then 1 else 0 end as {{ stage }}_intervals{% if not loop.last %},{% endif %}
        {%- endfor %}
    from intervals
    where left_at is not null
),

daily as (
    select
        customer_id,
        day,
        {%- for name in metrics %}
        sum({{ name }}) as {{ name }},
        {%- endfor %}
        max(stage_changes) > 0 as changed
    from (select * from entered union all select * from left_stage) as changes
    group by customer_id, day
)

select
    daily.customer_id,
    keys.customer_key,
    daily.day,
    {%- for name, type in metrics.items() %}
    (sum(daily.{{ name }}) over running)::{{ type }} as cum_{{ name }},
    {%- endfor %}
    max(case when daily.changed then daily.day end) over running as last_stage_change_day
from daily
inner join keys using (customer_id)
window running as (partition by daily.customer_id order by daily.day rows between unbounded preceding and current row)
order by daily.customer_id, daily.day
