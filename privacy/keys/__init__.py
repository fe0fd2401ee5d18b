"""Keys: the master key, per-subject data keys in a store that can forget, and join keys."""
