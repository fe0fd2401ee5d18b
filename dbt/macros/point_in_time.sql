{#- Point-in-time arithmetic for the feature snapshots, over int_customer_activity_daily's running totals.
    In customer_features_daily, `known` is the running-total row of the last day before
    as_of_date and `w<N>` the one of the last day before as_of_date - N. -#}

{#- Sum of `metric` over the N days before as_of_date: [as_of_date - N, as_of_date).
    Sums of doubles are rounded to `digits`: a difference of two running totals leaves float
    residue such as -9e-13 where the true value is 0, which would break declared ranges. -#}
{% macro window_sum(metric, days, digits=none) -%}
    {%- set diff = "(coalesce(known.cum_" ~ metric ~ ", 0) - coalesce(w" ~ days ~ ".cum_" ~ metric ~ ", 0))" -%}
    {%- if digits is none -%}{{ diff }}{%- else -%}round({{ diff }}, {{ digits }}){%- endif -%}
{%- endmacro %}

{#- Sum of `metric` over everything known before as_of_date. -#}
{% macro lifetime_sum(metric) -%}
    coalesce(known.cum_{{ metric }}, 0)
{%- endmacro %}

{#- A ratio that is null, not infinite, when the denominator is zero. -#}
{% macro safe_ratio(numerator, denominator) -%}
    (({{ numerator }})::double / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- The snapshot days of the feature spine between start and end: every day from `daily_from`
    on, and every `cadence`-th day (Mondays for 7) before it; never past the horizon (the day
    after the latest event). A fixed daily_from keeps each day's snapshot the same whenever it
    is built; Dagster's day partitions exclude the same history days. See docs/gold.md. -#}
{% macro feature_spine_days(bounds, start, end, daily_from, cadence) -%}
    {#- `bounds` is a relation with one row and a `horizon` date; start/end are SQL expressions over it. -#}
    select days.d::date as as_of_date
    from {{ bounds }}, generate_series(({{ start }})::date, least(({{ end }})::date, horizon), interval 1 day) as days(d)
    where days.d::date >= date '{{ daily_from }}'
        or date_diff('day', date '1970-01-05', days.d::date) % {{ cadence }} = 0
{%- endmacro %}

{#- For every spine row, the row of `relation` (per customer_key and day) last known before
    as_of_date - `days_before`: a narrow ASOF lookup of only `columns`. -#}
{% macro known_before(relation, columns, days_before=0) -%}
select spine.spine_row, looked_up.*exclude (customer_key, day)
from spine
asof left join (
    select customer_key, day, {{ columns | join(', ') }}
    from {{ relation }}
) as looked_up
    on spine.customer_key = looked_up.customer_key
    and spine.as_of_date{% if days_before %} - {{ days_before }}{% endif %} > looked_up.day
{%- endmacro %}

{#- Whole days from `earlier` to `later` (dates or timestamps); null when either is null. -#}
{% macro days_between(later, earlier) -%}
    date_diff('day', ({{ earlier }})::date, ({{ later }})::date)
{%- endmacro %}
