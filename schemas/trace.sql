-- One row per successful action. OASIS keys this table on
-- (user_id, created_at, action, info), which rejects a second identical action in the
-- same tick; we key it on trace_id and add the simulated time in minutes.
CREATE TABLE IF NOT EXISTS trace (
    trace_id INTEGER PRIMARY KEY,
    user_id INTEGER,
    created_at DATETIME,
    action TEXT,
    info TEXT,
    sim_time REAL,
    FOREIGN KEY(user_id) REFERENCES user(user_id)
);
CREATE INDEX IF NOT EXISTS trace_user_idx ON trace(user_id);
