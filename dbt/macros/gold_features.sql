{#- Point-in-time feature arithmetic over int_customer_activity_daily's running totals.
    In customer_features_daily, `known` is the running-total row of the last day before
    as_of_date and `w<N>` the one of the last day before as_of_date - N. -#}

{#- Sum of `metric` over the N days before as_of_date: [as_of_date - N, as_of_date). -#}
{% macro gold_win(metric, days) -%}
    (coalesce(known.cum_{{ metric }}, 0) - coalesce(w{{ days }}.cum_{{ metric }}, 0))
{%- endmacro %}

{#- Sum of `metric` over everything known before as_of_date. -#}
{% macro gold_life(metric) -%}
    coalesce(known.cum_{{ metric }}, 0)
{%- endmacro %}

{#- A ratio that is null, not infinite, when the denominator is zero. -#}
{% macro gold_ratio(numerator, denominator) -%}
    (({{ numerator }})::double / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- The snapshot days the feature spine keeps between start and end: every day within
    `daily_days` of the horizon (the day after the latest event), and every `cadence`-th day
    (Mondays for 7) before that; never past the horizon. See docs/gold.md, "the feature spine". -#}
{% macro gold_spine_days(bounds, start, end, daily_days, cadence) -%}
    {#- `bounds` is a relation with one row and a `horizon` date; start/end are SQL expressions over it. -#}
    select days.d::date as as_of_date
    from {{ bounds }}, generate_series(({{ start }})::date, least(({{ end }})::date, horizon), interval 1 day) as days(d)
    where days.d::date > horizon - {{ daily_days }}
        or date_diff('day', date '1970-01-05', days.d::date) % {{ cadence }} = 0
{%- endmacro %}
