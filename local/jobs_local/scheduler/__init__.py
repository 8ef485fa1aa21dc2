"""EventBridge: schedule rules and Scheduler's schedules fire (moto only stores them)."""
