{#- Every person-like record from every source, in the canonical identity schema
    (DESIGN.md §4): the input of identity resolution. source_record_id is the
    source system's own key, so each row traces back to its source record. -#}
with crm_contacts as (
    select
        'crm' as source,
        contact_id as source_record_id,
        first_name,
        last_name,
        full_name,
        birth_date,
        email,
        phone_e164 as phone,
        street,
        city,
        postcode,
        country,
        null::varchar as national_id,
        company_name as company,
        updated_at as record_updated_at
    from {{ ref('stg_crm__contacts') }}
),

erp_persons as (
    select
        'erp' as source,
        customer_no as source_record_id,
        first_name,
        last_name,
        full_name,
        birth_date,
        email,
        phone_e164 as phone,
        street,
        city,
        postcode,
        country,
        national_id,
        null::varchar as company,
        updated_at as record_updated_at
    from {{ ref('stg_erp__customers') }}
    where customer_kind = 'person'
),

erp_companies as (
    select customer_no, company_name, country
    from {{ ref('stg_erp__customers') }}
    where customer_kind = 'company'
),

erp_company_contacts as (
    select
        'erp_contacts' as source,
        contacts.contact_id as source_record_id,
        contacts.first_name,
        contacts.last_name,
        contacts.full_name,
        null::date as birth_date,
        contacts.email,
        coalesce(contacts.phone_e164, hub_phone_e164(contacts.phone_raw, companies.country)) as phone,
        null::varchar as street,
        null::varchar as city,
        null::varchar as postcode,
        companies.country,
        null::varchar as national_id,
        companies.company_name as company,
        contacts.updated_at as record_updated_at
    from {{ ref('stg_erp__customer_contacts') }} as contacts
    left join erp_companies as companies using (customer_no)
),

social_profiles as (
    select
        profile_id,
        display_name,
        bio,
        created_at
    from {{ ref('stg_social__posts') }}
    qualify row_number() over (partition by profile_id order by created_at desc, post_id desc) = 1
),

social as (
    select
        'social' as source,
        profile_id as source_record_id,
        null::varchar as first_name,
        null::varchar as last_name,
        display_name as full_name,
        null::date as birth_date,
        -- Profiles often publish a contact address in the bio; it is strong evidence when present.
        hub_email(nullif(regexp_extract(bio, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'), '')) as email,
        null::varchar as phone,
        null::varchar as street,
        null::varchar as city,
        null::varchar as postcode,
        null::varchar as country,
        null::varchar as national_id,
        null::varchar as company,
        created_at as record_updated_at
    from social_profiles
),

iot_owners as (
    select
        'iot' as source,
        device_id as source_record_id,
        null::varchar as first_name,
        null::varchar as last_name,
        owner_name as full_name,
        null::date as birth_date,
        owner_email as email,
        owner_phone_e164 as phone,
        null::varchar as street,
        null::varchar as city,
        owner_postcode as postcode,
        owner_country as country,
        null::varchar as national_id,
        null::varchar as company,
        registered_at as record_updated_at
    from {{ ref('stg_iot__devices') }}
),

unioned as (
    select * from crm_contacts
    union all select * from erp_persons
    union all select * from erp_company_contacts
    union all select * from social
    union all select * from iot_owners
)

select * from unioned
