{#- Person values (names, emails, phones, countries, national IDs, social handles, dates and
    birth dates) are standardised by the hub's Python UDFs (hub_email, hub_birth_date, ...;
    warehouse/dbt_plugin.py), never here: `hub identity resolve` applies the same functions,
    so a value means the same on both paths (docs/standardisation.md). -#}

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
