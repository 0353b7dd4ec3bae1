CREATE TABLE IF NOT EXISTS chat_group (
    group_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at DATETIME
);
CREATE TABLE IF NOT EXISTS group_members (
    group_id INTEGER NOT NULL,
    agent_id INTEGER NOT NULL,
    joined_at DATETIME,
    PRIMARY KEY(group_id, agent_id),
    FOREIGN KEY(group_id) REFERENCES chat_group(group_id),
    FOREIGN KEY(agent_id) REFERENCES user(user_id)
);
CREATE INDEX IF NOT EXISTS group_members_agent_idx ON group_members(agent_id);
CREATE TABLE IF NOT EXISTS group_messages (
    message_id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    sender_id INTEGER NOT NULL,
    content TEXT NOT NULL,
    sent_at DATETIME,
    FOREIGN KEY(group_id) REFERENCES chat_group(group_id),
    FOREIGN KEY(sender_id) REFERENCES user(user_id)
);
CREATE INDEX IF NOT EXISTS group_messages_group_idx ON group_messages(group_id, message_id);
