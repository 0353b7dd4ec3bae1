CREATE TABLE IF NOT EXISTS "like" (
    like_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    post_id INTEGER,
    created_at DATETIME,
    FOREIGN KEY(user_id) REFERENCES user(user_id),
    FOREIGN KEY(post_id) REFERENCES post(post_id)
);
-- One like per (post, user); also serves the per-post count.
CREATE UNIQUE INDEX IF NOT EXISTS like_post_user_idx ON "like"(post_id, user_id);
