"""Step Functions: its API (api), Step Functions Local's mocks (mocking), what the
interpreter does (interpreter) and how it runs (runtime)."""
