CREATE TABLE IF NOT EXISTS comment_dislike (
    comment_dislike_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    comment_id INTEGER,
    created_at DATETIME,
    FOREIGN KEY(user_id) REFERENCES user(user_id),
    FOREIGN KEY(comment_id) REFERENCES comment(comment_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS comment_dislike_comment_user_idx ON comment_dislike(comment_id, user_id);
