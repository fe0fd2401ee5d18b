{#- Small helpers for the gold marts. -#}

{#- Amounts in EUR at fixed reference rates, so lifetime values across ERP currencies add up.
    Rates are deliberately static (documented in docs/gold.md): the demo has no FX feed, and a
    moving rate would make re-runs on unchanged data change. Unknown currencies give null. -#}
{% macro gold_to_eur(amount, currency) -%}
    ({{ amount }} * case upper({{ currency }})
        when 'EUR' then 1.0
        when 'USD' then 0.92
        when 'GBP' then 1.17
        when 'CNY' then 0.128
    end)
{%- endmacro %}

{#- A lexicon sentiment score in [-1, 1] for short social texts in English and Chinese:
    (positive hits - negative hits) / all hits, 0 when no word matches. Crude but transparent,
    fast in SQL, and good enough to follow the mood of a customer over time. -#}
{% macro gold_sentiment(text) -%}
    {%- set negative = "not impressed|cancel|fix this|alternative|overheat|cannot connect|charged twice|damaged|refund|never called|switches off|disappoint|terrible|worst|broken|angry|complain|失望|退订|尽快处理|别的推荐|过热|无法连接|重复扣款|损坏|退款|没有回电|自动关机|投诉" -%}
    {%- set positive = "happy|love|saved|recommend|great|excellent|five minutes|thank|awesome|perfect|好用|省了|搞定|推荐。|喜欢|满意" -%}
    (
        (len(regexp_extract_all(lower(coalesce({{ text }}, '')), '{{ positive }}'))
         - len(regexp_extract_all(lower(coalesce({{ text }}, '')), '{{ negative }}')))::double
        / greatest(
            len(regexp_extract_all(lower(coalesce({{ text }}, '')), '{{ positive }}'))
            + len(regexp_extract_all(lower(coalesce({{ text }}, '')), '{{ negative }}')), 1)
    )
{%- endmacro %}

{#- Post-hook: expose a mart as main.<name> too, so `select * from customer_360` works
    unqualified in the DuckDB CLI on warehouse.duckdb. -#}
{% macro gold_main_view() -%}
    create or replace view main.{{ this.identifier }} as select * from {{ this }}
{%- endmacro %}

{#- Whole days from `earlier` to `later` (dates or timestamps); null when either is null. -#}
{% macro gold_days(later, earlier) -%}
    date_diff('day', ({{ earlier }})::date, ({{ later }})::date)
{%- endmacro %}
