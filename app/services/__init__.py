"""Business rules. Each public function is one use case and one transaction:
it validates, changes the data, writes the audit log and commits."""
