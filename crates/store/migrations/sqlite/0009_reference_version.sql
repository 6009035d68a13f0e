-- A stamp of the reference data (agencies, office hours, the catalog, calendar overrides):
-- every change to those tables bumps it in the same transaction, so each server process can
-- keep them in memory and check one small row per request instead of re-reading them
-- (docs/PERFORMANCE.md). Triggers, not application code, so a change made by any process or
-- any code path (CLI import, admin API, psql) is seen.
INSERT INTO meta (key, value) VALUES ('reference_version', '1') ON CONFLICT (key) DO NOTHING;
CREATE TRIGGER agencies_insert_ref AFTER INSERT ON agencies BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER agencies_update_ref AFTER UPDATE ON agencies BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER agencies_delete_ref AFTER DELETE ON agencies BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER fields_insert_ref AFTER INSERT ON fields BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER fields_update_ref AFTER UPDATE ON fields BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER fields_delete_ref AFTER DELETE ON fields BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedures_insert_ref AFTER INSERT ON procedures BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedures_update_ref AFTER UPDATE ON procedures BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedures_delete_ref AFTER DELETE ON procedures BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedure_versions_insert_ref AFTER INSERT ON procedure_versions BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedure_versions_update_ref AFTER UPDATE ON procedure_versions BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedure_versions_delete_ref AFTER DELETE ON procedure_versions BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedure_agencies_insert_ref AFTER INSERT ON procedure_agencies BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedure_agencies_update_ref AFTER UPDATE ON procedure_agencies BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER procedure_agencies_delete_ref AFTER DELETE ON procedure_agencies BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER calendar_overrides_insert_ref AFTER INSERT ON calendar_overrides BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER calendar_overrides_update_ref AFTER UPDATE ON calendar_overrides BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
CREATE TRIGGER calendar_overrides_delete_ref AFTER DELETE ON calendar_overrides BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'reference_version';
END;
