{#- The rows of a staging model that passed its silver suite: the quarantined ones (in
    quality.silver_rejections, written by the silver quarantine asset) are left out. Before the
    quarantine asset has ever run (a warehouse built by dbt alone) every row passes. -#}
{% macro passed_rows(model_name, key) -%}
    -- depends_on: {{ source('quality', 'silver_rejections') }}
    {%- set rejections = adapter.get_relation(database=target.database, schema='quality', identifier='silver_rejections') if execute else none %}
    {%- if rejections is none %}
    {{ ref(model_name) }}
    {%- else %}
    (
        select * from {{ ref(model_name) }}
        where {{ key }}::varchar not in (
            select record_key from {{ rejections }} where table_name = '{{ model_name }}'
        )
    )
    {%- endif %}
{%- endmacro %}
