{#- Sources disagree on date formats (ISO, German DD.MM.YYYY, US MM/DD/YYYY, compact YYYYMMDD);
    try each and keep the first that parses. Unparseable values become null, never an error. -#}
{% macro parse_date(column) -%}
    coalesce(
        try_strptime(nullif(trim({{ column }}), ''), '%Y-%m-%d'),
        try_strptime(nullif(trim({{ column }}), ''), '%d.%m.%Y'),
        try_strptime(nullif(trim({{ column }}), ''), '%Y/%m/%d'),
        try_strptime(nullif(trim({{ column }}), ''), '%m/%d/%Y'),
        try_strptime(nullif(trim({{ column }}), ''), '%Y%m%d'),
        try_cast(nullif(trim({{ column }}), '') as timestamp)
    )::date
{%- endmacro %}

{% macro parse_ts(column) -%}
    coalesce(
        try_cast(nullif(trim({{ column }}), '') as timestamptz) at time zone 'UTC',
        try_strptime(nullif(trim({{ column }}), ''), '%d.%m.%Y %H:%M:%S'),
        try_strptime(nullif(trim({{ column }}), ''), '%d.%m.%Y')
    )::timestamp
{%- endmacro %}

{#- Bronze is append-only: a changed record lands again. Staging keeps its latest version. -#}
{% macro latest_version(key, order_by='updated_at') -%}
    qualify row_number() over (partition by {{ key }} order by {{ order_by }} desc, _ingested_at desc) = 1
{%- endmacro %}

{% macro full_name(first, last) -%}
    case
        when regexp_matches(coalesce({{ last }}, '') || coalesce({{ first }}, ''), '[\x{4e00}-\x{9fff}]')
            then nullif(coalesce({{ last }}, '') || coalesce({{ first }}, ''), '')
        else nullif(trim(coalesce({{ first }}, '') || ' ' || coalesce({{ last }}, '')), '')
    end
{%- endmacro %}

{#- A social profile that a source linked to its record (CRM social_profile, ERP social_login),
    stored as platform:handle. Lower-cased and trimmed as stg_social__posts builds profile_id,
    so the same profile compares equal across sources; blank is null. -#}
{% macro social_handle(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}
