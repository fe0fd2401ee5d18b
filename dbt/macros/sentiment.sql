{#- A lexicon sentiment score in [-1, 1] for short social texts in English and Chinese:
    (positive hits - negative hits) / all hits, 0 when no word matches. Crude but transparent,
    fast in SQL, and good enough to follow the mood of a customer over time. -#}
{% macro sentiment_score(text) -%}
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
