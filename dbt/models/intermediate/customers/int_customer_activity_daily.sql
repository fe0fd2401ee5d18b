{#- One row per customer and day with activity: that day's counts and sums, and their running
    totals (cum_*) and last-seen days since the customer's first event. A feature over the w days
    before D is then cum(before D) - cum(before D - w): two ASOF lookups, whatever the window,
    which is what keeps customer_features_daily cheap to build for any number of days. -#}
{%- set metrics = {
    'activities': "count(*) filter (where is_activity)",
    'active_days': "max(case when is_activity then 1 else 0 end)",
    'crm_activities': "count(*) filter (where event_type in ('call', 'email', 'meeting', 'ticket'))",
    'tickets': "count(*) filter (where event_type = 'ticket')",
    'orders': "count(*) filter (where event_type = 'order_placed')",
    'orders_valued': "count(amount_eur) filter (where event_type = 'order_placed')",
    'order_amount_eur': "sum(amount_eur) filter (where event_type = 'order_placed')",
    'invoices': "count(*) filter (where event_type = 'invoice_issued')",
    'invoice_amount_eur': "sum(amount_eur) filter (where event_type = 'invoice_issued')",
    'invoices_paid': "count(*) filter (where event_type = 'invoice_paid')",
    'days_to_pay': "sum(duration_days) filter (where event_type = 'invoice_paid')",
    'social_posts': "count(*) filter (where source = 'social')",
    'negative_posts': "count(*) filter (where sentiment < 0)",
    'sentiment_sum': "sum(sentiment)",
    'sentiment_n': "count(sentiment)",
    'reactions': "sum(reactions)",
    'iot_readings': "count(*) filter (where event_type in ('telemetry', 'device_alert'))",
    'usage_min_sum': "sum(usage_min)",
    'usage_n': "count(usage_min)",
    'power_w_sum': "sum(power_w)",
    'power_n': "count(power_w)",
    'alerts': "sum(alert_count)",
    'devices_registered': "count(*) filter (where event_type = 'device_registered')",
    'opps_opened': "count(*) filter (where event_type = 'opportunity_opened')",
    'opps_opened_dayno': "sum(date_diff('day', date '1970-01-01', ts::date)) filter (where event_type = 'opportunity_opened')",
    'opps_closed': "count(*) filter (where event_type in ('opportunity_won', 'opportunity_lost'))",
    'opps_closed_dayno': "sum(date_diff('day', date '1970-01-01', ts::date) - duration_days) filter (where event_type in ('opportunity_won', 'opportunity_lost'))",
    'opps_closed_days': "sum(duration_days) filter (where event_type in ('opportunity_won', 'opportunity_lost'))",
    'opps_won': "count(*) filter (where event_type = 'opportunity_won')",
    'opps_won_days': "sum(duration_days) filter (where event_type = 'opportunity_won')",
    'won_amount_eur': "sum(amount_eur) filter (where event_type = 'opportunity_won')",
} -%}
{%- set integer_sums = ['reactions', 'alerts', 'opps_opened_dayno'] -%}
{%- set last_seen = {
    'activity': 'activities', 'order': 'orders', 'ticket': 'tickets', 'telemetry': 'iot_readings',
} -%}

with events as (
    select * from {{ ref('int_customer_events') }}
),

daily as (
    select
        customer_id,
        ts::date as day,
        {%- for name, expr in metrics.items() %}
        coalesce({{ expr }}, 0) as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from events
    group by customer_id, ts::date
)

select
    customer_id,
    -- An integer stand-in for customer_id: the feature build's ASOF joins run faster on it.
    dense_rank() over (order by customer_id)::integer as customer_key,
    day,
    min(day) over (partition by customer_id) as first_day,
    {%- for name, expr in metrics.items() %}
    {%- set type = 'bigint' if name in integer_sums or not expr.startswith('sum(') else 'double' %}
    {{ name }}::{{ type }} as {{ name }},
    (sum({{ name }}) over running)::{{ type }} as cum_{{ name }},
    {%- endfor %}
    {%- for name, metric in last_seen.items() %}
    max(case when {{ metric }} > 0 then day end) over running as last_{{ name }}_day{% if not loop.last %},{% endif %}
    {%- endfor %}
from daily
window running as (partition by customer_id order by day rows between unbounded preceding and current row)
order by customer_id, day
