"""Runnable stand-ins of the outside world (custodian bank, device platform, 12345 hotline)
for development, demos and tests. They keep their state in memory."""
