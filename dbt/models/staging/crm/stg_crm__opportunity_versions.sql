{#- Every version of every opportunity that the CRM API delivered. Bronze is append-only and the
    API returns the current version on each updated_since pull, so a stage change shows up as a
    new version with a newer updated_at. stg_crm__opportunities keeps only the latest; this
    keeps them all, for the stage history (int_opportunity_stage_intervals). It is also the one
    place where opportunity columns are renamed and parsed. -#}
with source as (
    select * from {{ source('crm', 'opportunities') }}
),

renamed as (
    select
        id as opportunity_id,
        account_id,
        contact_id,
        name as opportunity_name,
        lower(stage) as stage,
        lower(stage) in ('closed_won', 'closed_lost') as is_closed,
        amount,
        upper(currency) as currency,
        hub_date(close_date, null) as close_date,
        {{ parse_ts('created_at') }} as created_at,
        {{ parse_ts('updated_at') }} as updated_at,
        _batch_id,
        _ingested_at
    from source
)

select * from renamed
