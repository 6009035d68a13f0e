-- A stamp of the reference data (agencies, office hours, the catalog, calendar overrides):
-- every change to those tables bumps it in the same transaction, so each server process can
-- keep them in memory and check one small row per request instead of re-reading them
-- (docs/PERFORMANCE.md). Triggers, not application code, so a change made by any process or
-- any code path (CLI import, admin API, psql) is seen.
INSERT INTO meta (key, value) VALUES ('reference_version', '1') ON CONFLICT (key) DO NOTHING;
CREATE FUNCTION bump_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'reference_version';
    RETURN NULL;
END $$;
CREATE TRIGGER agencies_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agencies FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER fields_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fields FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER procedures_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON procedures FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER procedure_versions_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON procedure_versions FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER procedure_agencies_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON procedure_agencies FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER calendar_overrides_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_overrides FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
