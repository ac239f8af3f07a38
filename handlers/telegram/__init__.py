"""The Telegram channel (python-telegram-bot): app (build_application, running), routing (the
handlers in order), one module per feature, updates, ratelimit, persistence, context.

Importing the package imports nothing else, so `scheduler` can use `context` and `ratelimit`
without pulling every handler in (and back into `scheduler`)."""
