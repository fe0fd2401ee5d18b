with source as (
    select * from {{ source('crm', 'contacts') }}
    {{ latest_version('id') }}
),

opened as (
    select {{ opened('crm/contacts', 'id', ['first_name', 'last_name', 'email', 'phone', 'street', 'birth_date', 'social_profile']) }}
    from source
),

standardised as (
    select
        id as contact_id,
        account_id,
        hub_clean_name(first_name) as first_name,
        hub_clean_name(last_name) as last_name,
        hub_email(email) as email,
        email is not null and hub_email(email) is null as email_invalid,
        hub_phone_e164(phone, hub_country(country)) as phone_e164,
        hub_social_handle(social_profile) as social_handle,
        hub_clean_name(company_name) as company_name,
        hub_clean_name(street) as street,
        hub_clean_name(city) as city,
        upper(trim(postcode)) as postcode,
        hub_country(country) as country,
        hub_birth_date(birth_date, country) as birth_date,
        hub_birth_date_issue(birth_date, country) as birth_date_issue,
        owner as owner_id,
        lower(lifecycle_stage) as lifecycle_stage,
        email_opt_in,
        {{ parse_ts('created_at') }} as created_at,
        {{ parse_ts('updated_at') }} as updated_at,
        _batch_id,
        _ingested_at
    from opened
)

select
    *,
    {{ full_name('first_name', 'last_name') }} as full_name
from standardised
