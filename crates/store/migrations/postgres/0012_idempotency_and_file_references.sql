-- Idempotent creation: a client that lost the answer to a creating call sends it again with
-- the same Idempotency-Key and gets the same dossier or feedback, not a second one. The key is
-- claimed in the transaction that creates the record, so two tries never both create.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    dossier_id   BIGINT REFERENCES dossiers(id),
    feedback_id  BIGINT REFERENCES feedback(id),
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- The sweep of orphan files asks, for each recent file, whether any row names it; a file it
-- moved aside is marked swept (no longer offered to new dossiers) until it is removed for
-- good or recorded again.
ALTER TABLE files ADD COLUMN swept_at TIMESTAMPTZ;
CREATE INDEX dossier_components_file ON dossier_components(file_sha256) WHERE file_sha256 IS NOT NULL;
CREATE INDEX dossiers_result_file ON dossiers(result_file) WHERE result_file IS NOT NULL;
CREATE INDEX files_created ON files(created_at);
