"""What operators watch: the Prometheus metrics every part of the bot reports to (metrics.py)."""
