"""Signed webhooks out: subscriptions, deliveries, and the receivers of core.events."""
