"""Notifications (OpenMeter's notification API): webhook channels, balance-threshold rules over the watch's
engine, a durable outbox of events and their delivery to every channel, signed and retried."""
