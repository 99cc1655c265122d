"""RQ job functions, one module per domain; `runner.run` is the single RQ entry point."""
