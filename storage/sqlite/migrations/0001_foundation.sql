-- Foundation: what python-telegram-bot's persistence keeps, so a conversation survives a restart.
CREATE TABLE ptb_user_data (
    user_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE ptb_chat_data (
    chat_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE ptb_bot_data (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL
);
CREATE TABLE ptb_callback_data (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL
);
CREATE TABLE ptb_conversations (
    name TEXT NOT NULL,
    conv_key TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (name, conv_key)
);
-- People who talked to the bot, per channel; the anchor for roles, reminders and opt-outs.
CREATE TABLE chat_users (
    channel TEXT NOT NULL DEFAULT 'telegram',
    user_id INTEGER NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT,
    username TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (channel, user_id)
);
