with source as (
    select * from {{ source('erp', 'customer_contacts') }}
    {{ latest_version('contact_id') }}
),

opened as (
    select {{ opened('erp/customer_contacts', 'contact_id', ['first_name', 'last_name', 'email', 'phone']) }}
    from source
),

standardised as (
    select
        contact_id,
        customer_no,
        hub_clean_name(first_name) as first_name,
        hub_clean_name(last_name) as last_name,
        hub_email(email) as email,
        email is not null and hub_email(email) is null as email_invalid,
        -- The contact row carries no country: international numbers resolve here,
        -- national ones are resolved downstream with the company's country.
        hub_phone_e164(phone, null) as phone_e164,
        phone as phone_raw,
        role,
        {{ parse_ts('updated_at') }} as updated_at,
        _batch_id,
        _ingested_at
    from opened
)

select
    *,
    {{ full_name('first_name', 'last_name') }} as full_name
from standardised
