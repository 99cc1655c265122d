from tests.engine.conftest import clock, deployed  # noqa: F401  (the engine's fixtures: demo processes, the clock)
