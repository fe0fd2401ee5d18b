with source as (
    select * from {{ source('social', 'posts') }}
    {{ latest_version('post_id', '_ingested_at') }}
),

opened as (
    select {{ opened('social/posts', 'post_id', ['handle', 'display_name', 'bio', 'text']) }}
    from source
)

select
    post_id,
    lower(platform) as platform,
    hub_social_handle(platform || ':' || handle) as profile_id,
    lower(coalesce(kind, 'post')) as post_kind,
    parent_id,
    lower(trim(handle)) as handle,
    hub_clean_name(display_name) as display_name,
    bio,
    lower(lang) as lang,
    text,
    {{ parse_ts('created_at') }} as created_at,
    coalesce(reactions, 0) as reactions,
    _batch_id,
    _ingested_at
from opened
