-- Posts: common (original_post_id NULL), reposts (quote_content NULL) and quotes.
CREATE TABLE IF NOT EXISTS post (
    post_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    original_post_id INTEGER,
    content TEXT DEFAULT '',
    image_path TEXT,
    quote_content TEXT,
    created_at DATETIME,
    num_likes INTEGER DEFAULT 0 CHECK (num_likes >= 0),
    num_dislikes INTEGER DEFAULT 0 CHECK (num_dislikes >= 0),
    num_shares INTEGER DEFAULT 0 CHECK (num_shares >= 0),
    num_reports INTEGER DEFAULT 0 CHECK (num_reports >= 0),
    FOREIGN KEY(user_id) REFERENCES user(user_id),
    FOREIGN KEY(original_post_id) REFERENCES post(post_id)
);
-- refresh (followees' posts), repost duplicate check, trend window.
CREATE INDEX IF NOT EXISTS post_user_idx ON post(user_id);
CREATE INDEX IF NOT EXISTS post_original_user_idx ON post(original_post_id, user_id)
    WHERE original_post_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS post_created_idx ON post(created_at);
