"""The conversational core of policybot. It knows nothing of Slack or Teams (tests/test_architecture.py)."""
