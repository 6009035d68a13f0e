-- An online submission before it is sent: the citizen's answers, section by section, so that
-- they can leave and come back. `token` is the secret in the draft's address; a draft begun
-- by a signed-in citizen also wants them signed in. `answers` is JSON (service::drafts).
CREATE TABLE submission_drafts (
    token          TEXT PRIMARY KEY,
    citizen_id     BIGINT REFERENCES citizens(id),
    procedure_code TEXT NOT NULL,
    answers        TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX submission_drafts_citizen ON submission_drafts(citizen_id, updated_at);
CREATE INDEX submission_drafts_updated ON submission_drafts(updated_at);

-- The files a draft holds, one per component: named here, the orphan sweep keeps them.
CREATE TABLE submission_draft_files (
    token     TEXT NOT NULL REFERENCES submission_drafts(token) ON DELETE CASCADE,
    component BIGINT NOT NULL,
    sha256    TEXT NOT NULL,
    filename  TEXT NOT NULL,
    PRIMARY KEY (token, component)
);
CREATE INDEX submission_draft_files_sha256 ON submission_draft_files(sha256);

-- How the applicant asked to receive the result (desk, post, electronic) and, by post, where.
CREATE TABLE result_deliveries (
    dossier_id BIGINT PRIMARY KEY REFERENCES dossiers(id),
    method     TEXT NOT NULL CHECK (method IN ('desk', 'post', 'electronic')),
    address    TEXT NOT NULL DEFAULT ''
);
