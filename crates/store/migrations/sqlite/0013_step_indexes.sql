-- Issue 25: no list of dossiers may scan the dossiers or their steps once per dossier.
-- `dossier_steps_open (agency_id, completed_at)` led from an agency to its steps but not to
-- their dossiers: asked per dossier whether it had a step at an agency, SQLite searched every
-- step of the agency each time, and the unit inbox's count grew with the square of the
-- dossiers (70 s at 8k). Now each index leads to the dossier:
-- - `dossier_steps_agency`: every step of an agency (the scope "received by, or with a step
--   at, one of my agencies");
-- - `dossier_steps_open`, `dossier_steps_assignee`: open steps only (started, not completed:
--   the unit inbox, my inbox, the officers' workload), a few entries per open dossier.
-- A step now has two index entries for good instead of three (docs/PERFORMANCE.md).
--
-- First, a withdrawn, stopped or refused dossier's open step is closed with it, as the
-- service does since these actions close it (`decide`): when the dossier finished, by who
-- finished it, with their note. Left open, it kept the dossier in an officer's inbox.
UPDATE dossier_steps SET
    completed_at = (SELECT COALESCE(d.finished_at, d.updated_at) FROM dossiers d WHERE d.id = dossier_steps.dossier_id),
    completed_by = (SELECT e.actor FROM dossier_events e
        WHERE e.dossier_id = dossier_steps.dossier_id AND e.action IN ('withdraw', 'stop', 'refuse')
        ORDER BY e.seq DESC LIMIT 1),
    note = COALESCE((SELECT e.note FROM dossier_events e
        WHERE e.dossier_id = dossier_steps.dossier_id AND e.action IN ('withdraw', 'stop', 'refuse')
        ORDER BY e.seq DESC LIMIT 1), note)
WHERE started_at IS NOT NULL AND completed_at IS NULL
  AND dossier_id IN (SELECT id FROM dossiers WHERE status IN ('withdrawn', 'stopped', 'refused'));

DROP INDEX dossier_steps_open;
DROP INDEX dossier_steps_assignee;
CREATE INDEX dossier_steps_agency ON dossier_steps(agency_id, dossier_id);
-- The lists repeat this WHERE term (`repo::scope::OPEN_STEP`): SQLite uses a partial index
-- only for a query that does.
CREATE INDEX dossier_steps_open ON dossier_steps(agency_id, dossier_id)
    WHERE started_at IS NOT NULL AND completed_at IS NULL;
CREATE INDEX dossier_steps_assignee ON dossier_steps(assignee_id, dossier_id)
    WHERE started_at IS NOT NULL AND completed_at IS NULL;
