-- The real instant a dossier was received (thời điểm tiếp nhận), kept beside `received_at`,
-- the instant its legal clock started (the next opening when it came after hours). NULL for
-- imported dossiers (they have no steps): pages then show `received_at`.
ALTER TABLE dossiers ADD COLUMN actually_received_at TIMESTAMPTZ;

-- Dossiers received before: their first step started at the real receipt (intake and
-- acceptance both start it then), so that instant is the one kept.
UPDATE dossiers SET actually_received_at = (
    SELECT s.started_at FROM dossier_steps s
    WHERE s.dossier_id = dossiers.id AND s.started_at IS NOT NULL
    ORDER BY s.seq LIMIT 1)
WHERE received_at IS NOT NULL;
