-- The national payment platform (a redirect-and-signed-callback gateway). A payment (the fee
-- of an online submission) may take several attempts: each is a redirect to the gateway under
-- an order id of its own, and expires. Every callback that claims to come from the gateway is
-- kept with what was decided about it, refused ones included (forged, replayed, amount not
-- the fee, unknown order, late): the daily reconciliation and the audit read them.
ALTER TABLE payments ADD COLUMN transaction_id TEXT;
CREATE INDEX payments_paid ON payments(paid_at) WHERE paid_at IS NOT NULL;

CREATE TABLE payment_attempts (
    id             INTEGER PRIMARY KEY,
    payment_id     INTEGER NOT NULL REFERENCES payments(id),
    order_id       TEXT NOT NULL UNIQUE,
    amount_vnd     INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    -- When the gateway's verified notification settled it (paid or failed).
    settled_at     TEXT,
    transaction_id TEXT
);
CREATE INDEX payment_attempts_payment ON payment_attempts(payment_id);
CREATE INDEX payment_attempts_created ON payment_attempts(created_at);

CREATE TABLE payment_callbacks (
    id             INTEGER PRIMARY KEY,
    received_at    TEXT NOT NULL,
    -- `notify` (server to server) or `return` (the citizen's browser back from the gateway).
    channel        TEXT NOT NULL CHECK (channel IN ('notify', 'return')),
    -- As the callback claims them ('' / NULL when missing or unreadable).
    order_id       TEXT NOT NULL,
    amount_vnd     INTEGER,
    transaction_id TEXT NOT NULL,
    result         TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('accepted', 'failed', 'replayed', 'forged', 'malformed',
                                                     'unknown_order', 'amount_mismatch', 'late', 'double_payment')),
    detail         TEXT NOT NULL,
    -- The callback's fields as received (JSON object), checksum included.
    fields         TEXT NOT NULL
);
CREATE INDEX payment_callbacks_received ON payment_callbacks(received_at);
CREATE INDEX payment_callbacks_order ON payment_callbacks(order_id);
