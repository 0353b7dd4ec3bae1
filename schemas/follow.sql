CREATE TABLE IF NOT EXISTS follow (
    follow_id INTEGER PRIMARY KEY AUTOINCREMENT,
    follower_id INTEGER,
    followee_id INTEGER,
    created_at DATETIME,
    FOREIGN KEY(follower_id) REFERENCES user(user_id),
    FOREIGN KEY(followee_id) REFERENCES user(user_id),
    CHECK (follower_id <> followee_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS follow_pair_idx ON follow(follower_id, followee_id);
CREATE INDEX IF NOT EXISTS follow_followee_idx ON follow(followee_id);
