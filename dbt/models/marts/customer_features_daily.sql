{#- Point-in-time features per customer and as_of_date. A row for as_of_date D describes the
    customer as known at the START of D: only events with ts < D count, so joining it to anything
    that happens on or after D cannot leak. Built incrementally per day partition: Dagster passes
    the partition range as vars features_start/features_end and the rows of those days are
    replaced (delete+insert on as_of_date). Without vars, a first build covers all history and
    later builds add the latest day. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    on_schema_change='append_new_columns',
    tags=['gold', 'daily_partitioned'],
    post_hook=["{{ expose_in_main() }}"],
) }}
{%- set start = var('features_start', none) -%}
{%- set end = var('features_end', none) -%}
{#- Declared in dbt_project.yml vars; Dagster's day partitions read the same values. -#}
{%- set daily_from = var('features_daily_from') -%}
{%- set cadence = var('features_history_cadence_days') -%}
{%- set window_metrics = [
    'activities', 'crm_activities', 'tickets', 'orders', 'invoice_amount_eur', 'invoices',
    'social_posts', 'negative_posts', 'sentiment_sum', 'sentiment_n', 'reactions',
    'iot_readings', 'usage_min_sum', 'usage_n', 'power_w_sum', 'power_n', 'alerts',
] -%}
{%- set known_metrics = window_metrics + [
    'active_days',
    'orders_valued', 'order_amount_eur', 'invoices_paid', 'days_to_pay', 'devices_registered',
    'opps_opened', 'opps_opened_dayno', 'opps_closed', 'opps_closed_dayno', 'opps_closed_days',
    'opps_won', 'opps_won_days', 'won_amount_eur',
] -%}

{%- set open_stages = var('crm_open_stages') -%}
{%- set stage_metrics = [
    'open_in_stage', 'open_in_stage_entered_dayno', 'stage_changes', 'stage_advances',
    'closed_stage_days', 'closed_stages',
] -%}
{%- for stage in open_stages -%}
    {%- do stage_metrics.extend([stage ~ '_days', stage ~ '_intervals']) -%}
{%- endfor %}

with activity as (
    select * from {{ ref('int_customer_activity_daily') }}
),

stage_history as (
    select * from {{ ref('int_customer_opportunity_stages_daily') }}
),

bounds as (
    -- The horizon is the day after the latest event: the last as_of_date with complete data.
    select min(day) + 1 as first_as_of, max(day) + 1 as horizon from activity
),

spine_days as (
    {{ feature_spine_days(
        'bounds',
        ("'" ~ start ~ "'") if start else ('horizon' if is_incremental() else 'first_as_of'),
        ("'" ~ end ~ "'") if end else 'horizon',
        daily_from, cadence) | indent(4) }}
),

customers as (
    select customer_key, any_value(customer_id) as customer_id, min(first_day) as first_day
    from activity
    group by customer_key
),

spine as (
    select
        row_number() over () as spine_row,
        customers.customer_key,
        customers.customer_id,
        spine_days.as_of_date,
        customers.first_day
    from spine_days
    inner join customers on customers.first_day < spine_days.as_of_date
),

{#- Narrow ASOF lookups of the running totals: as known before as_of_date, and before
    as_of_date - 7, - 30 and - 90, on an integer key and only the columns each needs. Narrow
    lookups joined back on spine_row are 2-3x faster than chained ASOF joins, which drag ever
    wider rows through each sort. The opportunity stage history is read the same way. #}
{%- set known_columns = ['last_activity_day', 'last_order_day', 'last_ticket_day', 'last_telemetry_day'] -%}
{%- set window_columns = [] -%}
{%- set stage_columns = ['last_stage_change_day'] -%}
{%- for metric in known_metrics %}{% do known_columns.append('cum_' ~ metric) %}{% endfor -%}
{%- for metric in window_metrics %}{% do window_columns.append('cum_' ~ metric) %}{% endfor -%}
{%- for metric in stage_metrics %}{% do stage_columns.append('cum_' ~ metric) %}{% endfor %}
known as (
    {{ known_before('activity', known_columns) | indent(4) }}
),
{%- for w in [7, 30, 90] %}

w{{ w }} as (
    {{ known_before('activity', window_columns, w) | indent(4) }}
),
{%- endfor %}

stages as (
    {{ known_before('stage_history', stage_columns) | indent(4) }}
),

stages90 as (
    {{ known_before('stage_history', ['cum_stage_changes', 'cum_stage_advances'], 90) | indent(4) }}
),

features as (
    select
        spine.customer_id,
        spine.as_of_date,
        -- RFM and tenure
        {{ days_between('spine.as_of_date', 'spine.first_day') }} as tenure_days,
        {{ days_between('spine.as_of_date', 'known.last_activity_day') }} as recency_days,
        {{ days_between('spine.as_of_date', 'known.last_order_day') }} as days_since_last_order,
        {{ lifetime_sum('orders') }} as orders_lifetime,
        {{ lifetime_sum('invoice_amount_eur') }} as revenue_lifetime_eur,
        {{ safe_ratio(lifetime_sum('order_amount_eur'), lifetime_sum('orders_valued')) }} as avg_order_value_eur,
        {{ window_sum('invoice_amount_eur', 30, 2) }} as revenue_30d_eur,
        {{ window_sum('invoice_amount_eur', 90, 2) }} as revenue_90d_eur,
        -- activity per source over 7, 30 and 90 days
        {%- for metric in ['activities', 'crm_activities', 'orders', 'social_posts', 'iot_readings'] %}
        {%- set name = 'erp_orders' if metric == 'orders' else metric %}
        {%- for w in [7, 30, 90] %}
        {{ window_sum(metric, w) }} as {{ name }}_{{ w }}d,
        {%- endfor %}
        {%- endfor %}
        {{ safe_ratio('3 * ' ~ window_sum('activities', 30), window_sum('activities', 90)) }} as activity_trend_30d_vs_90d,
        -- rhythm: how often the customer usually shows up, and how unusual the current silence is
        {{ lifetime_sum('activities') }} as activities_lifetime,
        {{ lifetime_sum('active_days') }} as active_days_lifetime,
        {{ safe_ratio(days_between('known.last_activity_day', 'spine.first_day'), lifetime_sum('active_days') ~ ' - 1') }} as usual_gap_days,
        {{ safe_ratio(days_between('spine.as_of_date', 'known.last_activity_day'),
                      safe_ratio(days_between('known.last_activity_day', 'spine.first_day'), lifetime_sum('active_days') ~ ' - 1')) }} as recency_vs_usual_gap,
        -- support and complaints
        {{ window_sum('tickets', 30) }} as tickets_30d,
        {{ window_sum('tickets', 90) }} as tickets_90d,
        {{ lifetime_sum('tickets') }} as tickets_lifetime,
        {{ days_between('spine.as_of_date', 'known.last_ticket_day') }} as days_since_last_ticket,
        {{ safe_ratio(window_sum('tickets', 90), window_sum('crm_activities', 90)) }} as ticket_share_90d,
        -- IoT usage, anomalies and silence
        {{ lifetime_sum('devices_registered') }} as devices_registered,
        {%- for w in [7, 30, 90] %}
        {{ safe_ratio(window_sum('usage_min_sum', w, 6), window_sum('usage_n', w)) }} as usage_min_avg_{{ w }}d,
        {%- endfor %}
        {{ safe_ratio(safe_ratio(window_sum('usage_min_sum', 7, 6), window_sum('usage_n', 7)),
                      safe_ratio(window_sum('usage_min_sum', 90, 6), window_sum('usage_n', 90))) }} as usage_trend_7d_vs_90d,
        {{ safe_ratio(window_sum('power_w_sum', 30, 6), window_sum('power_n', 30)) }} as power_w_avg_30d,
        {{ window_sum('alerts', 30) }} as device_alerts_30d,
        {{ window_sum('alerts', 90) }} as device_alerts_90d,
        {{ safe_ratio(window_sum('alerts', 90), window_sum('iot_readings', 90)) }} as alert_rate_90d,
        {{ days_between('spine.as_of_date', 'known.last_telemetry_day') }} as days_since_last_telemetry,
        -- social sentiment, rolling
        {{ safe_ratio(window_sum('sentiment_sum', 30, 6), window_sum('sentiment_n', 30)) }} as sentiment_avg_30d,
        {{ safe_ratio(window_sum('sentiment_sum', 90, 6), window_sum('sentiment_n', 90)) }} as sentiment_avg_90d,
        {{ safe_ratio(lifetime_sum('sentiment_sum'), lifetime_sum('sentiment_n')) }} as sentiment_avg_lifetime,
        {{ window_sum('negative_posts', 30) }} as negative_posts_30d,
        {{ window_sum('negative_posts', 90) }} as negative_posts_90d,
        {{ window_sum('reactions', 30) }} as social_reactions_30d,
        -- opportunities and how long they stay in each stage
        {{ lifetime_sum('opps_opened') }} - {{ lifetime_sum('opps_closed') }} as open_opportunities,
        {{ safe_ratio(
            '(' ~ lifetime_sum('opps_opened') ~ ' - ' ~ lifetime_sum('opps_closed') ~ ') * date_diff(\'day\', date \'1970-01-01\', spine.as_of_date) - ('
                ~ lifetime_sum('opps_opened_dayno') ~ ' - ' ~ lifetime_sum('opps_closed_dayno') ~ ')',
            lifetime_sum('opps_opened') ~ ' - ' ~ lifetime_sum('opps_closed')) }} as open_opportunity_avg_age_days,
        {{ lifetime_sum('opps_won') }} as opportunities_won_lifetime,
        {{ lifetime_sum('won_amount_eur') }} as won_amount_lifetime_eur,
        {{ safe_ratio(lifetime_sum('opps_won_days'), lifetime_sum('opps_won')) }} as avg_days_to_close_won,
        {{ safe_ratio(lifetime_sum('opps_closed_days'), lifetime_sum('opps_closed')) }} as avg_days_to_close,
        -- opportunity stage history (all pulled versions, int_opportunity_stage_intervals)
        {{ safe_ratio(
            'coalesce(stages.cum_open_in_stage, 0) * date_diff(\'day\', date \'1970-01-01\', spine.as_of_date) - coalesce(stages.cum_open_in_stage_entered_dayno, 0)',
            'stages.cum_open_in_stage') }} as open_opportunity_avg_days_in_stage,
        {{ days_between('spine.as_of_date', 'stages.last_stage_change_day') }} as days_since_last_stage_change,
        coalesce(stages.cum_stage_changes, 0) - coalesce(stages90.cum_stage_changes, 0) as stage_changes_90d,
        coalesce(stages.cum_stage_advances, 0) - coalesce(stages90.cum_stage_advances, 0) as stage_advances_90d,
        round({{ safe_ratio('stages.cum_closed_stage_days', 'stages.cum_closed_stages') }}, 6) as avg_days_per_stage_closed,
        {%- for stage in open_stages %}
        round({{ safe_ratio('stages.cum_' ~ stage ~ '_days', 'stages.cum_' ~ stage ~ '_intervals') }}, 6) as avg_days_in_{{ stage }},
        {%- endfor %}
        -- payments
        {{ window_sum('invoices', 90) }} as invoices_90d,
        {{ lifetime_sum('invoices') }} - {{ lifetime_sum('invoices_paid') }} as unpaid_invoices,
        {{ safe_ratio(lifetime_sum('days_to_pay'), lifetime_sum('invoices_paid')) }} as avg_days_to_pay
    from spine
    inner join known using (spine_row)
    inner join stages using (spine_row)
    inner join stages90 using (spine_row)
    {%- for w in [7, 30, 90] %}
    inner join w{{ w }} using (spine_row)
    {%- endfor %}
)

select * from features
