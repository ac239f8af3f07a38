-- Conversation sessions and channel identities (bot/chat/sessions.py, bot/chat/router.py).
--  * chat_sessions: what a conversation remembers between messages (an open cost question, a
--    /ghi draft), per person and session name, as JSON owned by the flow. In the database, not
--    in a channel library's memory, so a restart (or another instance) continues the talk.
--  * chat_identities: the number the bot's tables use for a person of a channel whose own ids are
--    not numbers that fit (Zalo's 19-digit ids). Telegram ids are used as they are.
CREATE TABLE chat_sessions (
    channel TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,               -- JSON object
    updated_at TEXT NOT NULL,          -- ISO local datetime
    PRIMARY KEY (channel, user_id, name)
);

CREATE TABLE chat_identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (channel, external_id)
);
