{#- Survivorship: pick, per customer and attribute group, the one record whose values survive
    into the golden record. The rules are data (dbt/models/intermediate/customers/survivorship.yml, a file a data
    steward edits); this macro only turns them into ORDER BY clauses, so a rule change is a YAML
    change, never a SQL change. -#}

{% macro survivorship_order_by(group, spec) -%}
    {%- set tie_break = spec.get('tie_break') or [] -%}
    {%- if tie_break is string -%}{%- set tie_break = [tie_break] -%}{%- endif -%}
    {%- set rules = [spec.get('rule')] + tie_break -%}
    {%- set parts = [] -%}
    {%- for rule in rules -%}
        {%- if rule == 'source_priority' -%}
            {%- set sources = spec.get('sources') or [] -%}
            {%- if not sources -%}
                {{ exceptions.raise_compiler_error("survivorship." ~ group ~ ": rule source_priority needs a 'sources' list") }}
            {%- endif -%}
            {%- set ns = namespace(expr="case source") -%}
            {%- for s in sources -%}
                {%- set ns.expr = ns.expr ~ " when '" ~ s ~ "' then " ~ loop.index -%}
            {%- endfor -%}
            {%- do parts.append(ns.expr ~ " else " ~ (sources | length + 1) ~ " end") -%}
        {%- elif rule == 'most_recent' -%}
            {%- do parts.append("record_updated_at desc nulls last") -%}
        {%- elif rule == 'most_frequent' -%}
            {%- do parts.append("same_values desc") -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("survivorship." ~ group ~ ": unknown rule '" ~ rule ~ "' (use source_priority, most_recent or most_frequent)") }}
        {%- endif -%}
    {%- endfor -%}
    {#- Last resort, so the winner is deterministic whatever the rules say. -#}
    {%- do parts.append("source, source_record_id") -%}
    {{ parts | join(', ') }}
{%- endmacro %}

{#- One CTE body per attribute group: the winning record's columns plus <group>_source. -#}
{% macro survivorship_winner(records, group, spec) -%}
    {%- set required = spec.get('require') or [spec['columns'][0]] -%}
    {%- set keys = [] -%}
    {%- for c in spec['columns'] -%}{%- do keys.append("lower(trim(" ~ c ~ "::varchar))") -%}{%- endfor -%}
    select
        customer_id,
        {%- for c in spec['columns'] %}
        {{ c }},
        {%- endfor %}
        source as {{ group }}_source
    from (
        -- same_values: how many records of the customer carry these (normalised) values.
        select *, count(*) over (partition by customer_id, {{ keys | join(', ') }}) as same_values
        from {{ records }}
        where {% for c in required %}{{ c }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    ) as candidates
    qualify row_number() over (partition by customer_id order by {{ survivorship_order_by(group, spec) }}) = 1
{%- endmacro %}
