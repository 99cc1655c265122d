"""BPMN engine integration (SpiffWorkflow)."""
