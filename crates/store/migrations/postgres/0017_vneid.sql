-- National-identity sign-in (VNeID over OpenID Connect): which citizen account a personal
-- identification number is linked to, the sign-ins in flight (state, PKCE verifier, nonce),
-- verified identities waiting for the citizen to confirm a link, the sessions that came
-- from VNeID (their ID token, for the provider's sign-out), and the flag on dossiers
-- submitted by a VNeID-verified account.
CREATE TABLE vneid_links (
    personal_id TEXT PRIMARY KEY,
    citizen_id  BIGINT NOT NULL UNIQUE REFERENCES citizens(id) ON DELETE CASCADE,
    linked_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE vneid_flows (
    secret_hash   TEXT PRIMARY KEY,
    state         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    link_to       BIGINT REFERENCES citizens(id) ON DELETE CASCADE,
    next_path     TEXT NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX vneid_flows_expiry ON vneid_flows(expires_at);

CREATE TABLE vneid_pending (
    secret_hash TEXT PRIMARY KEY,
    citizen_id  BIGINT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    personal_id TEXT NOT NULL,
    full_name   TEXT NOT NULL,
    id_token    TEXT NOT NULL,
    next_path   TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX vneid_pending_expiry ON vneid_pending(expires_at);

CREATE TABLE vneid_sessions (
    token_hash TEXT PRIMARY KEY REFERENCES citizen_sessions(token_hash) ON DELETE CASCADE,
    id_token   TEXT NOT NULL
);

ALTER TABLE dossiers ADD COLUMN vneid_verified BOOLEAN NOT NULL DEFAULT FALSE;
