CREATE TABLE IF NOT EXISTS comment_like (
    comment_like_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    comment_id INTEGER,
    created_at DATETIME,
    FOREIGN KEY(user_id) REFERENCES user(user_id),
    FOREIGN KEY(comment_id) REFERENCES comment(comment_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS comment_like_comment_user_idx ON comment_like(comment_id, user_id);
