{#- One row per customer: the golden record (survivorship.yml decides each attribute group and
    records its winning source) and aggregates across every source. "30d" windows end at the data
    horizon, the latest event seen, not the wall clock, so a replayed world reads sensibly. -#}
{{ config(tags=['gold'], post_hook=["{{ expose_in_main() }}"]) }}

with golden as (
    select * from {{ ref('int_customer_golden_records') }}
),

identity as (
    select * from {{ ref('int_identity_current') }}
),

events as (
    select * from {{ ref('int_customer_events') }}
),

horizon as (
    select max(ts) as horizon_ts from events
),

cluster_stats as (
    select
        customer_id,
        count(*) as source_records,
        list(distinct source order by source) as sources,
        count(*) filter (where source = 'iot') as devices,
        -- The weakest link: the least certain record assignment in the cluster.
        min(match_probability) as identity_confidence
    from identity
    group by customer_id
),

event_stats as (
    select
        events.customer_id,
        min(events.ts) as first_seen,
        max(events.ts) filter (where events.is_activity) as last_seen,
        coalesce(sum(events.amount_eur) filter (where events.event_type = 'invoice_issued'), 0) as lifetime_value,
        count(*) filter (where events.event_type = 'order_placed') as orders,
        max(events.ts) filter (where events.event_type = 'order_placed') as last_order_at,
        max(events.ts) filter (where events.event_type in ('telemetry', 'device_alert')) as last_telemetry_at,
        coalesce(sum(events.alert_count) filter (where events.ts > horizon.horizon_ts - interval 30 day), 0) as device_alerts_30d,
        count(*) filter (where events.source = 'social' and events.ts > horizon.horizon_ts - interval 30 day) as social_mentions_30d,
        avg(events.sentiment) filter (where events.ts > horizon.horizon_ts - interval 30 day) as sentiment_30d
    from events
    cross join horizon
    group by events.customer_id
),

device_status as (
    -- The customer's most pressing device status, and their latest device alert.
    select
        customer_id,
        case min(case device_status when 'alerting' then 1 when 'silent' then 2 when 'ok' then 3 else 4 end)
            when 1 then 'alerting' when 2 then 'silent' when 3 then 'ok' else 'no_telemetry'
        end as device_status,
        max(last_alert_at) as last_device_alert_at
    from {{ ref('int_customer_devices') }}
    group by customer_id
),

open_opportunities as (
    select
        identity.customer_id,
        count(*) as open_opportunities,
        sum({{ to_eur('opportunities.amount', 'opportunities.currency') }}) as open_pipeline_eur,
        -- The most advanced open deal's stage.
        arg_max(
            opportunities.stage,
            case opportunities.stage
                {%- for stage in var('crm_open_stages') %} when '{{ stage }}' then {{ loop.index }}{% endfor %} else 0
            end
        ) as open_opportunity_stage
    from {{ passed_rows('stg_crm__opportunities', 'opportunity_id') }} as opportunities
    inner join identity
        on identity.source = 'crm' and identity.source_record_id = opportunities.contact_id
    where not opportunities.is_closed
    group by identity.customer_id
)

select
    golden.customer_id,
    golden.full_name,
    golden.first_name,
    golden.last_name,
    golden.name_source,
    golden.email,
    golden.email_source,
    golden.phone,
    golden.phone_source,
    golden.street,
    golden.city,
    golden.postcode,
    golden.country,
    golden.address_source,
    golden.birth_date,
    golden.birth_date_source,
    golden.company,
    golden.company_source,
    event_stats.first_seen,
    event_stats.last_seen,
    coalesce(event_stats.lifetime_value, 0)::double as lifetime_value,
    coalesce(event_stats.orders, 0)::bigint as orders,
    event_stats.last_order_at,
    coalesce(open_opportunities.open_opportunities, 0)::bigint as open_opportunities,
    open_opportunities.open_opportunity_stage,
    coalesce(open_opportunities.open_pipeline_eur, 0)::double as open_pipeline_eur,
    coalesce(cluster_stats.devices, 0)::bigint as devices,
    event_stats.last_telemetry_at,
    coalesce(event_stats.device_alerts_30d, 0)::bigint as device_alerts_30d,
    device_status.device_status,
    device_status.last_device_alert_at,
    coalesce(event_stats.social_mentions_30d, 0)::bigint as social_mentions_30d,
    event_stats.sentiment_30d::double as sentiment_30d,
    -- Consent is filled by the privacy issue; null means "not known yet", never "granted".
    null::boolean as consent_marketing_email,
    null::boolean as consent_analytics,
    null::boolean as consent_ai_training,
    null::boolean as consent_third_party_sharing,
    cluster_stats.identity_confidence::double as identity_confidence,
    cluster_stats.source_records::bigint as source_records,
    cluster_stats.sources
from golden
left join cluster_stats using (customer_id)
left join event_stats using (customer_id)
left join open_opportunities using (customer_id)
left join device_status using (customer_id)
order by golden.customer_id
