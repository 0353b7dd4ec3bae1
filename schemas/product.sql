CREATE TABLE IF NOT EXISTS product (
    product_id INTEGER PRIMARY KEY,
    product_name TEXT,
    sales INTEGER DEFAULT 0 CHECK (sales >= 0)
);
CREATE INDEX IF NOT EXISTS product_name_idx ON product(product_name);
