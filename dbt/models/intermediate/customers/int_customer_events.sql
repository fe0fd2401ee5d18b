{#- Every interaction across sources, attributed to a customer through the identity graph, with
    the measures the features aggregate. customer_timeline is its public projection.
    is_activity marks signs of life from the customer (churn and recency use it); back-office
    events (invoices issued or paid, deals closed by sales) are not. -#}
with identity as (
    select source, source_record_id, customer_id from {{ ref('int_identity_current') }}
),

order_amounts as (
    select order_no, sum(line_amount) as amount, count(*) as lines
    from {{ passed_rows('stg_erp__order_lines', 'order_line_id') }}
    group by order_no
),

crm_contacts as (
    select
        'crm' as id_source, contact_id as id_key, created_at as ts, 'crm' as source,
        'contact_created' as event_type,
        'CRM contact created' || coalesce(' (' || lifecycle_stage || ')', '') as summary,
        'crm/contacts/' || contact_id as ref,
        true as is_activity,
        null::double as amount_eur, null::double as duration_days, null::double as usage_min,
        null::double as power_w, 0 as alert_count, null::double as sentiment, 0 as reactions
    from {{ passed_rows('stg_crm__contacts', 'contact_id') }}
),

crm_activities as (
    select
        'crm', contact_id, occurred_at, 'crm', activity_type,
        coalesce(subject, activity_type), 'crm/activities/' || activity_id,
        true, null, null, null, null, 0, null, 0
    from {{ ref('stg_crm__activities') }}
),

crm_opportunities_opened as (
    select
        'crm', contact_id, created_at, 'crm', 'opportunity_opened',
        'Opportunity opened: ' || coalesce(opportunity_name, opportunity_id),
        'crm/opportunities/' || opportunity_id,
        true, {{ to_eur('amount', 'currency') }}, null, null, null, 0, null, 0
    from {{ passed_rows('stg_crm__opportunities', 'opportunity_id') }}
),

crm_opportunities_closed as (
    -- The latest version's updated_at is when the deal was closed.
    select
        'crm', contact_id, updated_at, 'crm', 'opportunity_' || replace(stage, 'closed_', ''),
        'Opportunity ' || replace(stage, 'closed_', '') || ': ' || coalesce(opportunity_name, opportunity_id),
        'crm/opportunities/' || opportunity_id,
        false, {{ to_eur('amount', 'currency') }},
        date_diff('second', created_at, updated_at) / 86400.0, null, null, 0, null, 0
    from {{ passed_rows('stg_crm__opportunities', 'opportunity_id') }}
    where is_closed
),

erp_customers as (
    select
        'erp', customer_no, created_at, 'erp', 'customer_created', 'ERP customer account opened',
        'erp/customers/' || customer_no,
        true, null, null, null, null, 0, null, 0
    from {{ passed_rows('stg_erp__customers', 'customer_no') }}
    where customer_kind = 'person'
),

erp_orders as (
    select
        'erp', orders.customer_no, orders.ordered_at, 'erp', 'order_placed',
        'Order ' || orders.order_no || ' (' || coalesce(orders.status, '?') || ', '
            || coalesce(order_amounts.lines, 0) || ' lines, '
            || coalesce(round(order_amounts.amount, 2)::varchar || ' ' || orders.currency, 'no lines') || ')',
        'erp/sales_orders/' || orders.order_no,
        true,
        case when orders.status <> 'cancelled' then {{ to_eur('order_amounts.amount', 'orders.currency') }} end,
        null, null, null, 0, null, 0
    from {{ passed_rows('stg_erp__sales_orders', 'order_no') }} as orders
    left join order_amounts using (order_no)
),

erp_invoices_issued as (
    select
        'erp', customer_no, invoiced_at, 'erp', 'invoice_issued',
        'Invoice ' || invoice_no || ': ' || round(amount, 2) || ' ' || coalesce(currency, ''),
        'erp/invoices/' || invoice_no,
        false, {{ to_eur('amount', 'currency') }}, null, null, null, 0, null, 0
    from {{ passed_rows('stg_erp__invoices', 'invoice_no') }}
),

erp_invoices_paid as (
    select
        'erp', customer_no, paid_at, 'erp', 'invoice_paid',
        'Invoice ' || invoice_no || ' paid',
        'erp/invoices/' || invoice_no,
        false, {{ to_eur('amount', 'currency') }},
        date_diff('second', invoiced_at, paid_at) / 86400.0, null, null, 0, null, 0
    from {{ passed_rows('stg_erp__invoices', 'invoice_no') }}
    where paid_at is not null
),

social_posts as (
    select
        'social', profile_id, created_at, 'social', post_kind,
        platform || ' ' || post_kind || ': ' || left(text, 140),
        'social/posts/' || post_id,
        true, null, null, null, null, 0, {{ sentiment_score('text') }}, reactions
    from {{ ref('stg_social__posts') }}
),

iot_devices as (
    select
        'iot', device_id, registered_at, 'iot', 'device_registered',
        'Registered ' || coalesce(model, 'device') || ' ' || device_id,
        'iot/devices/' || device_id,
        true, null, null, null, null, 0, null, 0
    from {{ passed_rows('stg_iot__devices', 'device_id') }}
),

iot_telemetry as (
    select
        'iot', device_id, ts, 'iot',
        case when alert_count > 0 then 'device_alert' else 'telemetry' end,
        case
            when alert_count > 0 then 'Alert ' || alerts || ' on ' || device_id
            else 'Telemetry from ' || device_id || ': ' || coalesce(usage_min::varchar, '?') || ' min use'
        end,
        'iot/telemetry/' || event_id,
        true, null, null, usage_min, power_w, alert_count, null, 0
    from {{ passed_rows('stg_iot__telemetry', 'event_id') }}
),

unioned as (
    select * from crm_contacts
    union all select * from crm_activities
    union all select * from crm_opportunities_opened
    union all select * from crm_opportunities_closed
    union all select * from erp_customers
    union all select * from erp_orders
    union all select * from erp_invoices_issued
    union all select * from erp_invoices_paid
    union all select * from social_posts
    union all select * from iot_devices
    union all select * from iot_telemetry
)

select
    identity.customer_id,
    unioned.ts,
    unioned.source,
    unioned.event_type,
    unioned.summary,
    unioned.ref,
    unioned.is_activity,
    unioned.amount_eur,
    unioned.duration_days,
    unioned.usage_min,
    unioned.power_w,
    unioned.alert_count::integer as alert_count,
    unioned.sentiment,
    unioned.reactions::integer as reactions
from unioned
inner join identity
    on identity.source = unioned.id_source
    and identity.source_record_id = unioned.id_key
where unioned.ts is not null
order by identity.customer_id, unioned.ts, unioned.ref
