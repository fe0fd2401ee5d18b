"""Long-running stream consumers: MQTT messages into bronze, exactly once."""
