-- Where a dossier's notices go, when the applicant chose other than every contact they gave
-- (no row: SMS to the phone and mail to the e-mail address, as before).
CREATE TABLE notice_channels (
    dossier_id BIGINT PRIMARY KEY REFERENCES dossiers(id),
    channels   TEXT NOT NULL CHECK (channels IN ('sms', 'email'))
);
