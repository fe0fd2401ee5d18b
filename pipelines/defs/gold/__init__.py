"""Gold: daily feature snapshots (dbt, partitioned), Delta publishing of the marts, mart checks."""
