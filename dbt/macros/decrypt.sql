{#- Bronze stores direct identifiers encrypted under the data key of their record
    (warehouse/bronze_protection.py); staging opens them with the hub's UDF
    (warehouse/dbt_plugin.py). `bronze_table` and `record_id` name the record's subject,
    `field` the column the value was encrypted for. A forgotten subject's values open as null. -#}
{% macro decrypt(field, bronze_table, record_id, value=none) -%}
    hub_decrypt('{{ bronze_table }}', {{ record_id }}::varchar, '{{ field }}', {{ value if value is not none else field }})
{%- endmacro %}

{#- The columns of a bronze record, each named one opened in place. -#}
{% macro opened(bronze_table, record_id, fields) -%}
    * replace (
    {%- for field in fields %}
        {{ decrypt(field, bronze_table, record_id) }} as {{ field }}{{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}
