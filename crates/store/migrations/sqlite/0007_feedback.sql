-- Feedback and petitions (phản ánh, kiến nghị, PAKN): one row per feedback with its current
-- state, deadlines and answer; an append-only event log; the daily sequence behind the
-- reference code PAKN-YYMMDD-NNNN (never reused). Limits live in `meta`
-- (feedback.forward_days, feedback.answer_days) and default to 5 and 10 working days.
CREATE TABLE feedback_sequences (
    day      TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);

CREATE TABLE feedback (
    id               INTEGER PRIMARY KEY,
    ref              TEXT NOT NULL UNIQUE,
    dossier_code     TEXT,
    submitter_name   TEXT NOT NULL,
    phone            TEXT NOT NULL DEFAULT '',
    email            TEXT NOT NULL DEFAULT '',
    channel          TEXT NOT NULL,
    category         TEXT,
    subject          TEXT NOT NULL,
    content          TEXT NOT NULL,
    agency_id        INTEGER NOT NULL REFERENCES agencies(id),
    status           TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    clock_started_at TEXT NOT NULL,
    forward_due_at   TEXT NOT NULL,
    answer_due_at    TEXT NOT NULL,
    closed_at        TEXT,
    answer           TEXT NOT NULL DEFAULT '',
    reject_reason    TEXT NOT NULL DEFAULT '',
    answered_by      TEXT NOT NULL DEFAULT '',
    published        INTEGER NOT NULL DEFAULT 0,
    published_at     TEXT,
    noted_by         TEXT NOT NULL DEFAULT '',
    search_text      TEXT NOT NULL DEFAULT '',
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX feedback_agency_status ON feedback(agency_id, status);
CREATE INDEX feedback_published ON feedback(published, published_at);
CREATE INDEX feedback_dossier ON feedback(dossier_code);

CREATE TABLE feedback_events (
    id           INTEGER PRIMARY KEY,
    feedback_id  INTEGER NOT NULL REFERENCES feedback(id),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    agency_id    INTEGER NOT NULL REFERENCES agencies(id),
    to_agency_id INTEGER REFERENCES agencies(id),
    due_at       TEXT,
    note         TEXT NOT NULL DEFAULT '',
    UNIQUE (feedback_id, seq)
);
