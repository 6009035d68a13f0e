-- Foundation: organisation, catalog, users and dossiers (extended by later migrations).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE agencies (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL,
    parent_id    INTEGER REFERENCES agencies(id),
    address      TEXT NOT NULL DEFAULT '',
    is_one_stop  INTEGER NOT NULL DEFAULT 0,
    search_text  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agencies_parent ON agencies(parent_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE user_roles (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    role      TEXT NOT NULL,
    PRIMARY KEY (user_id, agency_id, role)
);
CREATE INDEX user_roles_agency ON user_roles(agency_id);

CREATE TABLE fields (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE procedures (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    field_id     INTEGER NOT NULL REFERENCES fields(id),
    level        TEXT NOT NULL,
    time_limit   TEXT NOT NULL,
    fee_text     TEXT NOT NULL DEFAULT '',
    online_level TEXT NOT NULL DEFAULT 'partial',
    search_text  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX procedures_field ON procedures(field_id);

-- Per-agency daily sequence behind the dossier code; never reused.
CREATE TABLE dossier_sequences (
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    day       TEXT NOT NULL,
    last_seq  INTEGER NOT NULL,
    PRIMARY KEY (agency_id, day)
);

CREATE TABLE dossiers (
    id              INTEGER PRIMARY KEY,
    code            TEXT UNIQUE,
    agency_id       INTEGER NOT NULL REFERENCES agencies(id),
    procedure_id    INTEGER NOT NULL REFERENCES procedures(id),
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    applicant_name  TEXT NOT NULL,
    submitted_at    TEXT,
    received_at     TEXT,
    due_at          TEXT,
    original_due_at TEXT,
    finished_at     TEXT,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX dossiers_agency_status ON dossiers(agency_id, status);
CREATE INDEX dossiers_procedure ON dossiers(procedure_id);
