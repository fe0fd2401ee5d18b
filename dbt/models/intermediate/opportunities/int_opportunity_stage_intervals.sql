{#- The stages every CRM opportunity went through, as far as the pulled versions show them:
    one row per stage interval, with the customer through the contact's current identity.

    Knowledge time is the version's updated_at (the CRM's time of the change), as event time
    is everywhere else in gold; see docs/gold.md, "Opportunity stage history". An interval is
    known from entered_at = the updated_at of the first version that shows the stage, which is
    the latest the change can have happened. It ends (left_at) when a version with another
    stage appears. A stage the CRM passed through between two pulls was never seen and has no
    interval. -#}
{#- Pipeline order: the open stages (dbt var crm_open_stages) rank 1..n, every closed stage n + 1. -#}
{%- set stage_rank = {} -%}
{%- for stage in var('crm_open_stages') -%}{%- do stage_rank.update({stage: loop.index}) -%}{%- endfor -%}
{%- for stage in [var('crm_won_stage'), var('crm_lost_stage')] -%}{%- do stage_rank.update({stage: var('crm_open_stages') | length + 1}) -%}{%- endfor -%}

with versions as (
    select * from {{ ref('stg_crm__opportunity_versions') }}
    where updated_at is not null and stage is not null
),

identity as (
    select * from {{ ref('int_identity_current') }}
    where source = 'crm'
),

sequenced as (
    select
        *,
        lag(stage) over (
            partition by opportunity_id order by updated_at, _ingested_at
        ) as previous_stage
    from versions
),

entries as (
    -- A version opens an interval when its stage differs from the version before it.
    select
        opportunity_id,
        contact_id,
        account_id,
        stage,
        previous_stage,
        is_closed,
        created_at as opened_at,
        updated_at as entered_at,
        _ingested_at
    from sequenced
    where previous_stage is null or previous_stage <> stage
),

intervals as (
    select
        *,
        lead(entered_at) over in_order as left_at,
        row_number() over in_order as interval_no,
        case stage
            {%- for stage, rank in stage_rank.items() %}
            when '{{ stage }}' then {{ rank }}
            {%- endfor %}
        end as stage_rank,
        case previous_stage
            {%- for stage, rank in stage_rank.items() %}
            when '{{ stage }}' then {{ rank }}
            {%- endfor %}
        end as previous_stage_rank
    from entries
    window in_order as (partition by opportunity_id order by entered_at, _ingested_at)
),

classified as (
    select
        *,
        date_diff('second', entered_at, left_at) / 86400.0 as duration_days,
        -- A change is visible when an earlier version had another stage. A deal first seen past
        -- its first stage, later than it was opened, also moved there (from a stage no pull saw).
        previous_stage is not null
            or (stage_rank > 1 and entered_at > opened_at) as is_stage_change
    from intervals
)

select
    identity.customer_id,
    classified.opportunity_id,
    classified.contact_id,
    classified.account_id,
    classified.interval_no,
    classified.stage,
    classified.stage_rank,
    classified.previous_stage,
    classified.is_closed,
    classified.opened_at,
    classified.entered_at,
    classified.left_at,
    classified.duration_days,
    classified.is_stage_change,
    -- Forward through the pipeline, or won; a lost deal did not advance.
    classified.is_stage_change
        and classified.stage <> '{{ var('crm_lost_stage') }}'
        and (classified.previous_stage is null or classified.stage_rank > classified.previous_stage_rank)
        as is_stage_advance,
    -- On a closing: the open-stage intervals the deal completed before it, for per-stage
    -- averages over closed deals.
    case when classified.is_closed then
        sum(case when not classified.is_closed then classified.duration_days end) over earlier
    end as open_stage_days_before_close,
    case when classified.is_closed then
        count(case when not classified.is_closed then classified.duration_days end) over earlier
    end as open_stages_before_close
from classified
left join identity on identity.source_record_id = classified.contact_id
window earlier as (
    partition by classified.opportunity_id order by classified.interval_no
    rows between unbounded preceding and 1 preceding
)
order by classified.opportunity_id, classified.interval_no
