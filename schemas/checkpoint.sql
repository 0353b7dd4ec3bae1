-- The latest checkpoint of a run (oasis_des/engine/checkpoint.py): named parts, JSON text
-- or numpy arrays, written in the same transaction as the data they belong to.
CREATE TABLE IF NOT EXISTS checkpoint (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
