"""Delivery: generated CI workflows, the account bootstrap, cost estimates and the delivery diagram, from config."""
