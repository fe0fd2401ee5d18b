{#- Churn labels from observed behaviour only (the pipeline never reads the simulator's truth).
    A customer churns within 90 days of as_of_date D when their last sign of life in any source
    falls in [D, D + 90) and nothing follows up to the horizon. Labels are given only where that
    is decidable for everyone: D + 180 days <= horizon (90 to churn, then 90 of silence), so the
    label rate is not biased towards the end of the data. Rows exist for customers at risk at D:
    seen before D and not yet gone silent for good. The dates follow the feature spine. -#}
{{ config(tags=['gold'], post_hook=["{{ gold_main_view() }}"]) }}
{#- Keep in step with FEATURES_DAILY_FROM in pipelines/defs/gold/partitions.py. -#}
{%- set daily_from = var('features_daily_from', '2026-04-01') -%}
{%- set cadence = var('features_history_cadence_days', 7) -%}

with activity as (
    select * from {{ ref('int_customer_activity_daily') }}
),

bounds as (
    select min(day) + 1 as first_as_of, max(day) + 1 as horizon from activity
),

customers as (
    select
        customer_id,
        min(first_day) as first_day,
        max(last_activity_day) as last_activity_day
    from activity
    group by customer_id
),

spine_days as (
    {{ gold_spine_days('bounds', 'first_as_of', 'horizon - 180', daily_from, cadence) | indent(4) }}
)

select
    customers.customer_id,
    spine_days.as_of_date,
    customers.last_activity_day < spine_days.as_of_date + 90 as churned_within_90d,
    case
        when customers.last_activity_day < spine_days.as_of_date + 90 then customers.last_activity_day + 1
    end as churn_date
from spine_days
inner join customers
    on customers.first_day < spine_days.as_of_date
    and customers.last_activity_day >= spine_days.as_of_date
order by spine_days.as_of_date, customers.customer_id
