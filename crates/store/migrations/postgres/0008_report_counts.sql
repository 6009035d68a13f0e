-- II.06a counters (the fast path, docs/reports.md): dated increments per receiving agency and
-- procedure, summed into day, month and year buckets. Derived data: rebuilt from the dossiers
-- after this migration and by `motcua report --rebuild`; no foreign keys, so bulk import and
-- rebuild write them without lookups. Replaces daily_counts. Also marks imported dossiers.
DROP TABLE daily_counts;
CREATE TABLE report_counts (
    grain        TEXT NOT NULL,
    bucket       DATE NOT NULL,
    agency_id    BIGINT NOT NULL,
    procedure_id BIGINT NOT NULL,
    metric       SMALLINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (grain, bucket, agency_id, procedure_id, metric)
);
-- Dossiers brought in by `motcua import dossiers` from a legacy system (no events, no steps).
ALTER TABLE dossiers ADD COLUMN imported BOOLEAN NOT NULL DEFAULT FALSE;
