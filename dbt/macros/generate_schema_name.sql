{#- Layers get plain schema names (staging, intermediate, marts) rather than dbt's target-prefixed ones,
    so analysts query marts.customer_360, not main_marts.customer_360. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
