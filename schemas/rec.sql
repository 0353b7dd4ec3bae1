-- The recommendation buffer of each user whose feed has been computed.
CREATE TABLE IF NOT EXISTS rec (
    user_id INTEGER,
    post_id INTEGER,
    PRIMARY KEY(user_id, post_id),
    FOREIGN KEY(user_id) REFERENCES user(user_id),
    FOREIGN KEY(post_id) REFERENCES post(post_id)
);
