"""The bot's one HTTP server (Starlette + uvicorn): routes contributed by channels (the Zalo
webhook), the signed download links of files channels refuse, and a health check. Channel-
neutral: no conversation logic, no Vietnamese text of its own (bot/chat/texts), no storage."""
