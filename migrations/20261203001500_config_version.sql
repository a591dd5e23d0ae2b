-- One version for settings and mappings together, moved by the same transaction as any change
-- to them (a statement-level trigger), so that workers can keep both in memory and re-read them
-- only when the version they read with their job has moved (src/worker/config_cache.rs).
CREATE TABLE config_version (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL
);
INSERT INTO config_version (id, version) VALUES (true, 1);

CREATE FUNCTION bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_version SET version = version + 1 WHERE id;
    RETURN NULL;
END
$$;

CREATE TRIGGER mappings_bump_config_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mappings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version();
CREATE TRIGGER settings_bump_config_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version();
