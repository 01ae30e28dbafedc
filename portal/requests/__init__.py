"""Requests: their lifecycle, routing to PUA queues, receipts, messages, the citizen's area."""
