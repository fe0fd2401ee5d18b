from tests.pipelines.stream.mosquitto import broker  # noqa: F401 (the fixture)
