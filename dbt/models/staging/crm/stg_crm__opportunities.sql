{#- The current state of each opportunity: its latest version. -#}
with versions as (
    select * from {{ ref('stg_crm__opportunity_versions') }}
    {{ latest_version('opportunity_id') }}
)

select * from versions
