"""Imports every module that registers service-task operators or message names, so the
engine registry is complete. Add a domain module here when it declares operators."""
import importlib

OPERATOR_MODULES = [
    "app.services.contracts",
    "app.services.correction_orders",
    "app.services.demo_ops",
    "app.services.devices",
    "app.services.disputes",
    "app.services.escrow",
    "app.services.evaluation",
    "app.services.filing",
    "app.services.high_risk",
    "app.services.inspections",  # evaluation feeders (app.services.evaluation_inputs)
    "app.services.surveys",  # evaluation feeder
    "app.services.takeover",
]


def load_all() -> None:
    for name in OPERATOR_MODULES:
        importlib.import_module(name)
