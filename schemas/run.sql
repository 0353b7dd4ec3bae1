-- oasis_des's own tables.
-- Run metadata: package version, platform kind and settings, config and seed (JSON values).
CREATE TABLE IF NOT EXISTS run_meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
-- Every failed action attempt, so nothing an agent tried is lost; never counted in trace.
-- user_id has no type: an id that is not an agent's is kept as sent (text), where a
-- numeric column would turn '007' into 7 and 2**70 into a float.
CREATE TABLE IF NOT EXISTS failed_action (
    failure_id INTEGER PRIMARY KEY,
    user_id,
    created_at DATETIME,
    sim_time REAL,
    action TEXT,
    args TEXT,
    error TEXT
);
