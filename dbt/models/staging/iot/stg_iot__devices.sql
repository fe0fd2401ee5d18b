with source as (
    select * from {{ source('iot', 'devices') }}
    -- A device re-registered by another member of the household belongs to the latest
    -- registrant. Both rows often land in one batch, so order by the registration time.
    {{ latest_version('serial', parse_ts('registered_at')) }}
),

opened as (
    select {{ opened('iot/devices', 'serial', ['owner_name', 'owner_email', 'owner_phone']) }}
    from source
)

select
    serial as device_id,
    model,
    hub_clean_name(owner_name) as owner_name,
    hub_email(owner_email) as owner_email,
    -- Schema drift: later registry exports renamed owner_phone to owner_mobile.
    -- Bronze keeps the renamed column in _extra; staging maps it back.
    hub_phone_e164(
        coalesce(
            owner_phone,
            {{ decrypt('_extra.owner_mobile', 'iot/devices', 'serial', "json_extract_string(_extra, '$.owner_mobile')") }}
        ),
        hub_country(owner_country)
    ) as owner_phone_e164,
    upper(trim(owner_postcode)) as owner_postcode,
    hub_country(owner_country) as owner_country,
    {{ parse_ts('registered_at') }} as registered_at,
    firmware,
    _batch_id,
    _ingested_at
from opened
