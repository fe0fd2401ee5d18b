{#- Post-hook: expose a mart as main.<name> too, so `select * from customer_360` works
    unqualified in the DuckDB CLI on warehouse.duckdb. -#}
{% macro expose_in_main() -%}
    create or replace view main.{{ this.identifier }} as select * from {{ this }}
{%- endmacro %}
