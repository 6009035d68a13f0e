-- Citizens' accounts (phone or e-mail, verified by a one-time code), their sessions, the
-- dossiers they own, and their ratings of finished dossiers.
CREATE TABLE citizens (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    login_kind    TEXT NOT NULL CHECK (login_kind IN ('phone', 'email')),
    full_name     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    verified_at   TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE citizen_codes (
    id         INTEGER PRIMARY KEY,
    citizen_id INTEGER NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify', 'reset')),
    code_hash  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    TEXT
);
CREATE INDEX citizen_codes_citizen ON citizen_codes(citizen_id, purpose);

CREATE TABLE citizen_sessions (
    token_hash TEXT PRIMARY KEY,
    citizen_id INTEGER NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

ALTER TABLE dossiers ADD COLUMN citizen_id INTEGER REFERENCES citizens(id);
CREATE INDEX dossiers_citizen ON dossiers(citizen_id);

CREATE TABLE ratings (
    dossier_id   INTEGER PRIMARY KEY REFERENCES dossiers(id),
    citizen_id   INTEGER REFERENCES citizens(id),
    answers      TEXT NOT NULL,
    satisfaction TEXT NOT NULL CHECK (satisfaction IN ('very_satisfied', 'satisfied', 'not_satisfied')),
    created_at   TEXT NOT NULL
);

-- Fees paid through a payment provider (a built-in sandbox until a real one is configured).
CREATE TABLE payments (
    id         INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    amount_vnd INTEGER NOT NULL,
    provider   TEXT NOT NULL,
    reference  TEXT NOT NULL UNIQUE,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    created_at TEXT NOT NULL,
    paid_at    TEXT
);
CREATE INDEX payments_dossier ON payments(dossier_id);
