CREATE TABLE IF NOT EXISTS comment (
    comment_id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id INTEGER,
    user_id INTEGER,
    content TEXT,
    created_at DATETIME,
    num_likes INTEGER DEFAULT 0 CHECK (num_likes >= 0),
    num_dislikes INTEGER DEFAULT 0 CHECK (num_dislikes >= 0),
    FOREIGN KEY(post_id) REFERENCES post(post_id),
    FOREIGN KEY(user_id) REFERENCES user(user_id)
);
-- Comments shown under a post, in creation order.
CREATE INDEX IF NOT EXISTS comment_post_idx ON comment(post_id, comment_id);
