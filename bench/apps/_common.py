"""Constants shared by every benchmark app (and mirrored in bench/goserver/main.go).

Kept free of third-party imports so each app module stays importable on its own.
"""

# Scenario 6: a 10 KB (10240 bytes) text/plain body. bench/goserver/main.go and
# bench/run.py build exactly the same string.
TEXT_10K: str = "0123456789abcdef" * 640

# Scenario 5: how long the async handler sleeps, in seconds.
SLEEP_SECONDS: float = 0.001
