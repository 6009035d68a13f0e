-- Dossier lifecycle: applicant, procedure version and case, workflow steps, components,
-- hash-chained events, outbox for side effects, daily counters for reports.
ALTER TABLE dossiers ADD COLUMN procedure_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE dossiers ADD COLUMN case_code TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN applicant_kind TEXT NOT NULL DEFAULT 'person';
ALTER TABLE dossiers ADD COLUMN applicant_id_number TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN submitter_name TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN request TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN accept_due_at TEXT;
ALTER TABLE dossiers ADD COLUMN paused_at TEXT;
ALTER TABLE dossiers ADD COLUMN supplements_after_receipt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN supplement_before_receipt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN rescheduled_at TEXT;
ALTER TABLE dossiers ADD COLUMN returned_at TEXT;
ALTER TABLE dossiers ADD COLUMN return_method TEXT;
ALTER TABLE dossiers ADD COLUMN result_file TEXT;
ALTER TABLE dossiers ADD COLUMN result_number TEXT;
ALTER TABLE dossiers ADD COLUMN received_by TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN last_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';
ALTER TABLE dossiers ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX dossiers_due ON dossiers(due_at);
CREATE INDEX dossiers_status ON dossiers(status);

CREATE TABLE dossier_steps (
    id               INTEGER PRIMARY KEY,
    dossier_id       INTEGER NOT NULL REFERENCES dossiers(id),
    seq              INTEGER NOT NULL,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL,
    agency_id        INTEGER REFERENCES agencies(id),
    agency_rule      TEXT NOT NULL,
    quota_thousandths INTEGER NOT NULL,
    started_at       TEXT,
    due_at           TEXT,
    completed_at     TEXT,
    completed_by     TEXT,
    assignee_id      INTEGER REFERENCES users(id),
    note             TEXT NOT NULL DEFAULT '',
    UNIQUE (dossier_id, seq)
);
CREATE INDEX dossier_steps_open ON dossier_steps(agency_id, completed_at);
CREATE INDEX dossier_steps_assignee ON dossier_steps(assignee_id, completed_at);

CREATE TABLE dossier_components (
    id           INTEGER PRIMARY KEY,
    dossier_id   INTEGER NOT NULL REFERENCES dossiers(id),
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'component',
    name         TEXT NOT NULL,
    originals    INTEGER NOT NULL DEFAULT 0,
    copies       INTEGER NOT NULL DEFAULT 0,
    required     INTEGER NOT NULL DEFAULT 0,
    provided     INTEGER NOT NULL DEFAULT 0,
    file_sha256  TEXT,
    added_at     TEXT NOT NULL,
    UNIQUE (dossier_id, seq)
);

CREATE TABLE dossier_events (
    id          INTEGER PRIMARY KEY,
    dossier_id  INTEGER NOT NULL REFERENCES dossiers(id),
    seq         INTEGER NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    step_seq    INTEGER,
    note        TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    UNIQUE (dossier_id, seq)
);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    topic        TEXT NOT NULL,
    dossier_id   INTEGER REFERENCES dossiers(id),
    payload      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_at TEXT,
    last_error   TEXT
);
CREATE INDEX outbox_pending ON outbox(topic, delivered_at);

CREATE TABLE daily_counts (
    agency_id    INTEGER NOT NULL REFERENCES agencies(id),
    procedure_id INTEGER NOT NULL REFERENCES procedures(id),
    day          TEXT NOT NULL,
    metric       TEXT NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (agency_id, procedure_id, day, metric)
);
