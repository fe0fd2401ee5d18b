with source as (
    select * from {{ source('erp', 'customers') }}
    {{ latest_version('customer_no') }}
),

opened as (
    select {{ opened('erp/customers', 'customer_no', ['name', 'first_name', 'last_name', 'birth_date', 'national_id', 'email', 'phone', 'street', 'social_login']) }}
    from source
),

standardised as (
    select
        customer_no,
        lower(kind) as customer_kind,
        case when lower(kind) = 'company' then hub_clean_name(name) end as company_name,
        hub_clean_name(first_name) as first_name,
        hub_clean_name(last_name) as last_name,
        hub_clean_name(name) as customer_name,
        hub_birth_date(birth_date, country) as birth_date,
        hub_birth_date_issue(birth_date, country) as birth_date_issue,
        hub_national_id(national_id) as national_id,
        upper(replace(trim(tax_id), ' ', '')) as tax_id,
        hub_email(email) as email,
        email is not null and hub_email(email) is null as email_invalid,
        hub_phone_e164(phone, hub_country(country)) as phone_e164,
        hub_social_handle(social_login) as social_handle,
        hub_clean_name(street) as street,
        hub_clean_name(city) as city,
        upper(trim(postcode)) as postcode,
        hub_country(country) as country,
        {{ parse_ts('created_at') }} as created_at,
        {{ parse_ts('updated_at') }} as updated_at,
        _batch_id,
        _ingested_at
    from opened
)

select
    *,
    coalesce({{ full_name('first_name', 'last_name') }}, case when customer_kind = 'person' then customer_name end) as full_name
from standardised
