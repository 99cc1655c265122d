"""Clients and signatures for the outside world: the custodian bank, device platforms, the 12345 hotline."""
