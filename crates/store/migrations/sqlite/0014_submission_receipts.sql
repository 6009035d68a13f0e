-- What a citizen (or a guest) holds after submitting online: a secret in the confirmation
-- page's address, kept here as its SHA-256. The page shows the submission only to the
-- signed-in owner or to whoever holds the secret.
CREATE TABLE submission_receipts (
    dossier_id  INTEGER PRIMARY KEY REFERENCES dossiers(id),
    secret_hash TEXT NOT NULL
);
