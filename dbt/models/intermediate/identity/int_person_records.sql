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
        social_handle,
        updated_at as record_updated_at
    from {{ passed_rows('stg_crm__contacts', 'contact_id') }}
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
        social_handle,
        updated_at as record_updated_at
    from {{ passed_rows('stg_erp__customers', 'customer_no') }}
    where customer_kind = 'person'
),

erp_companies as (
    select customer_no, company_name, country
    from {{ passed_rows('stg_erp__customers', 'customer_no') }}
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
        null::varchar as social_handle,
        contacts.updated_at as record_updated_at
    from {{ ref('stg_erp__customer_contacts') }} as contacts
    left join erp_companies as companies using (customer_no)
),

social_posts as (
    select profile_id, handle, display_name, bio, lang, text, created_at, post_id
    from {{ ref('stg_social__posts') }}
),

social_profiles as (
    select profile_id, handle, display_name, bio, lang, created_at
    from social_posts
    qualify row_number() over (partition by profile_id order by created_at desc, post_id desc) = 1
),

-- Contact details the owner published in the bio or in posts ("DM me at ..."); the most
-- frequent one wins. A national phone format without a country stays out: its country
-- is a guess, and a wrong guess would be a wrong identifier.
social_contact_mentions as (
    select
        profile_id,
        hub_email(nullif(regexp_extract(text, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'), '')) as email,
        hub_phone_e164(
            nullif(regexp_extract(text, '(\+?[0-9][0-9 ()-]{6,}[0-9])'), ''),
            case when lang = 'zh' then 'CN' end
        ) as phone
    from (
        select profile_id, text, lang from social_posts
        union all
        select profile_id, bio, lang from social_profiles
    )
),

social_contacts as (
    select
        profile_id,
        mode(email) filter (where email is not null) as email,
        mode(phone) filter (where phone is not null) as phone
    from social_contact_mentions
    group by profile_id
),

-- Bios name a home town ("Living in Passau.", "坐标萍市"). Matching them against the
-- cities in CRM and ERP addresses is a gazetteer lookup; the longest match wins so that
-- "North James" beats "James".
known_cities as (
    select distinct city from {{ ref('stg_crm__contacts') }} where length(city) >= 2
    union
    select distinct city from {{ ref('stg_erp__customers') }} where length(city) >= 2
),

social_cities as (
    select profile_id, arg_max(city, length(city)) as city
    from social_profiles
    inner join known_cities on contains(social_profiles.bio, known_cities.city)
    group by profile_id
),

social as (
    select
        'social' as source,
        profile_id as source_record_id,
        -- "Bob S." with the handle bob_smith is Bob Smith (identity/handles.py); a display
        -- name the handle cannot complete is split by identity resolution as it stands.
        nullif(split_part(completed_name, '|', 1), '') as first_name,
        nullif(split_part(completed_name, '|', 2), '') as last_name,
        display_name as full_name,
        null::date as birth_date,
        social_contacts.email,
        social_contacts.phone,
        null::varchar as street,
        social_cities.city,
        null::varchar as postcode,
        null::varchar as country,
        null::varchar as national_id,
        null::varchar as company,
        profile_id as social_handle,
        created_at as record_updated_at
    from (
        select *, hub_name_from_handle(display_name, handle) as completed_name
        from social_profiles
    ) as social_profiles
    left join social_contacts using (profile_id)
    left join social_cities using (profile_id)
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
        null::varchar as social_handle,
        registered_at as record_updated_at
    from {{ passed_rows('stg_iot__devices', 'device_id') }}
),

unioned as (
    select * from crm_contacts
    union all select * from erp_persons
    union all select * from erp_company_contacts
    union all select * from social
    union all select * from iot_owners
)

select * from unioned
