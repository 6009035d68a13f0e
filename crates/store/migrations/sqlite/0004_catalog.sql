-- Catalog: versioned procedures (each version the full validated JSON), implementing
-- agencies, and content-addressed files (form templates now, uploads later).
ALTER TABLE procedures ADD COLUMN levels TEXT NOT NULL DEFAULT '';
ALTER TABLE procedures ADD COLUMN current_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE procedures ADD COLUMN four_on_the_spot INTEGER NOT NULL DEFAULT 0;

CREATE TABLE procedure_versions (
    id             INTEGER PRIMARY KEY,
    procedure_id   INTEGER NOT NULL REFERENCES procedures(id),
    version        INTEGER NOT NULL,
    effective_from TEXT NOT NULL,
    spec           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL DEFAULT '',
    UNIQUE (procedure_id, version)
);

CREATE TABLE procedure_agencies (
    procedure_id INTEGER NOT NULL REFERENCES procedures(id) ON DELETE CASCADE,
    agency_id    INTEGER NOT NULL REFERENCES agencies(id),
    PRIMARY KEY (procedure_id, agency_id)
);
CREATE INDEX procedure_agencies_agency ON procedure_agencies(agency_id);

CREATE TABLE files (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
