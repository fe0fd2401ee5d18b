{#- Where a bronze Delta table lives; dbt-duckdb's delta plugin reads it through deltalake (no DuckDB extension). -#}
{% macro bronze_path(source, entity) -%}
{{ env_var('HUB_DATA_DIR', '../.hub') }}/bronze/{{ source }}/{{ entity }}
{%- endmacro %}
