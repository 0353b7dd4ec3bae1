-- Accounts. user_id equals the agent id (OASIS convention).
CREATE TABLE IF NOT EXISTS user (
    user_id INTEGER PRIMARY KEY,
    agent_id INTEGER,
    user_name TEXT,
    name TEXT,
    bio TEXT,
    created_at DATETIME,
    num_followings INTEGER DEFAULT 0 CHECK (num_followings >= 0),
    num_followers INTEGER DEFAULT 0 CHECK (num_followers >= 0)
);
