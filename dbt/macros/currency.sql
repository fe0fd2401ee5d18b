{#- Amounts in EUR at fixed reference rates, so lifetime values across ERP currencies add up.
    Rates are deliberately static (documented in docs/gold.md): the demo has no FX feed, and a
    moving rate would make re-runs on unchanged data change. Unknown currencies give null. -#}
{% macro to_eur(amount, currency) -%}
    ({{ amount }} * case upper({{ currency }})
        when 'EUR' then 1.0
        when 'USD' then 0.92
        when 'GBP' then 1.17
        when 'CNY' then 0.128
    end)
{%- endmacro %}
