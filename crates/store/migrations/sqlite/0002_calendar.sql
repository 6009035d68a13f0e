-- Legal time: per-date overrides of the rule calendar, office hours per agency.
CREATE TABLE calendar_overrides (
    day        TEXT PRIMARY KEY,           -- local date YYYY-MM-DD
    kind       TEXT NOT NULL CHECK (kind IN ('day_off', 'workday', 'remove')),
    name       TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

-- NULL: the default office hours (07:00-11:30,13:30-17:00).
ALTER TABLE agencies ADD COLUMN office_hours TEXT;
