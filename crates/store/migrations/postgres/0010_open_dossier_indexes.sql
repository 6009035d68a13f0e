-- Indexes on dossiers that only open dossiers need carry only those (docs/PERFORMANCE.md):
-- a province's history is mostly closed dossiers, which every such entry made slower to
-- import and larger on disk without ever being looked up through it. The lists repeat
-- `repo::IN_PROCESS` and `repo::OPEN` verbatim: SQLite uses a partial index only for a
-- query that repeats its WHERE term.
DROP INDEX dossiers_due;
CREATE INDEX dossiers_due ON dossiers(due_at)
    WHERE status IN ('received','processing','awaiting_supplement','awaiting_payment');
DROP INDEX dossiers_status;
CREATE INDEX dossiers_status ON dossiers(status)
    WHERE status IN ('submitted','received','processing','awaiting_supplement','awaiting_payment');
DROP INDEX dossiers_citizen;
CREATE INDEX dossiers_citizen ON dossiers(citizen_id) WHERE citizen_id IS NOT NULL;
