"""Adapters: translate between a platform (terminal, Slack, Teams) and the core's types."""
