"""The monitors: each joins an engine half (summaries) and a stats half (inference)."""
