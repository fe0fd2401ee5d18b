{#- One row per registered device of a resolved customer: its last reading, its last alert and a
    status. The status is read against the telemetry horizon (the newest reading of any device),
    like the 30-day windows of customer_360, so a replayed world reads sensibly:
    alerting = an alert in the 24 hours before the horizon; silent = no reading in the 7 days
    before it; ok = otherwise; no_telemetry = never heard from. -#}
with devices as (
    select device_id, model from {{ ref('stg_iot__devices') }}
),

identity as (
    select source_record_id as device_id, customer_id
    from {{ ref('int_identity_current') }}
    where source = 'iot'
),

telemetry as (
    select device_id, ts, alert_count, alerts from {{ ref('stg_iot__telemetry') }}
    where ts is not null
),

horizon as (
    select max(ts) as horizon_ts from telemetry
),

readings as (
    select
        telemetry.device_id,
        max(telemetry.ts) as last_telemetry_at,
        max(telemetry.ts) filter (where telemetry.alert_count > 0) as last_alert_at,
        arg_max(telemetry.alerts, telemetry.ts) filter (where telemetry.alert_count > 0) as last_alerts,
        coalesce(sum(telemetry.alert_count) filter (
            where telemetry.ts > horizon.horizon_ts - interval 24 hour), 0) as alerts_24h
    from telemetry
    cross join horizon
    group by telemetry.device_id
)

select
    identity.customer_id,
    devices.device_id,
    devices.model,
    readings.last_telemetry_at,
    readings.last_alert_at,
    readings.last_alerts,
    coalesce(readings.alerts_24h, 0)::bigint as alerts_24h,
    case
        when readings.last_telemetry_at is null then 'no_telemetry'
        when readings.alerts_24h > 0 then 'alerting'
        when readings.last_telemetry_at <= horizon.horizon_ts - interval 7 day then 'silent'
        else 'ok'
    end as device_status
from devices
inner join identity using (device_id)
left join readings using (device_id)
cross join horizon
order by identity.customer_id, devices.device_id
