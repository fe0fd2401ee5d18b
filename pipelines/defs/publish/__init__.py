"""Publishing: the gold marts and feature snapshots as Delta tables under gold/."""
