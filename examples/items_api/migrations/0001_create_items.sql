-- The items table. SQLite (and any driver without a variant of its own):
-- AUTOINCREMENT, so that an id is never reused. IF NOT EXISTS adopts a
-- database made by the service before it had migrations.
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    price DOUBLE PRECISION NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT items_name_key UNIQUE (name),
    CONSTRAINT items_price_check CHECK (price >= 0)
);
