CREATE TABLE IF NOT EXISTS mute (
    mute_id INTEGER PRIMARY KEY AUTOINCREMENT,
    muter_id INTEGER,
    mutee_id INTEGER,
    created_at DATETIME,
    FOREIGN KEY(muter_id) REFERENCES user(user_id),
    FOREIGN KEY(mutee_id) REFERENCES user(user_id),
    CHECK (muter_id <> mutee_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS mute_pair_idx ON mute(muter_id, mutee_id);
