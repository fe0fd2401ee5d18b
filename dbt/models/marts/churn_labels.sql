{#- Churn labels from observed behaviour only (the pipeline never reads the simulator's truth).
    A customer churns within 90 days of as_of_date D when their last sign of life in any source
    falls in [D, D + 90) and the silence after it, up to the horizon, is both longer than 90 days
    and longer than three times their usual gap between active days: a customer who shows up
    twice a year is quiet, not gone, after four silent months. Labels are given only for
    D <= horizon - 180 days (90 to churn, then at least 90 of silence), so every label is decided
    on the same footing. Rows exist for customers at risk at D: seen before D and not yet silent
    for good. The dates follow the feature spine. docs/gold.md compares this with the churn the
    simulator planted. -#}
{{ config(tags=['gold'], post_hook=["{{ expose_in_main() }}"]) }}
{#- Declared in dbt_project.yml vars; Dagster's day partitions read the same values. -#}
{%- set daily_from = var('features_daily_from') -%}
{%- set cadence = var('features_history_cadence_days') -%}

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
        max(last_activity_day) as last_activity_day,
        -- The customer's usual gap between active days, over their whole observed life.
        date_diff('day', min(day) filter (where activities > 0), max(last_activity_day))
            / greatest(count(*) filter (where activities > 0) - 1, 1) as usual_gap_days
    from activity
    group by customer_id
),

gone as (
    select
        customers.*,
        date_diff('day', customers.last_activity_day, bounds.horizon) > greatest(90, 3 * customers.usual_gap_days) as went_silent
    from customers
    cross join bounds
),

spine_days as (
    {{ feature_spine_days('bounds', 'first_as_of', 'horizon - 180', daily_from, cadence) | indent(4) }}
)

select
    gone.customer_id,
    spine_days.as_of_date,
    coalesce(gone.went_silent and gone.last_activity_day < spine_days.as_of_date + 90, false) as churned_within_90d,
    case
        when gone.went_silent and gone.last_activity_day < spine_days.as_of_date + 90 then gone.last_activity_day + 1
    end as churn_date
from spine_days
inner join gone
    on gone.first_day < spine_days.as_of_date
    and gone.last_activity_day >= spine_days.as_of_date
order by spine_days.as_of_date, gone.customer_id
