"""Outbound customer events: derived from the warehouse, kept in an outbox, and delivered to each
subscriber with only the fields its subscription allows."""
