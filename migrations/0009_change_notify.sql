-- 0009_change_notify.sql - tell `fora serve` when results may have changed.
--
-- A served answer depends on a forum's data (forums.data_version) and on
-- which of its analysis runs completed (analysis_runs).  Every statement that
-- writes either table sends a notification on channel "fora_changes"; it is
-- delivered when the writing transaction commits (never for one that rolls
-- back), whichever process or machine wrote (fora import, fora recompute,
-- fora worker, plain SQL).  `fora serve` listens, and re-reads a forum's
-- stamp only after a notification (server/api.c, "the result cache"), so
-- cached answers cost no query.  Notifications within one transaction are
-- folded into one by PostgreSQL.
CREATE FUNCTION fora_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fora_changes', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER forums_notify_change
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON forums
    FOR EACH STATEMENT EXECUTE FUNCTION fora_notify_change();

CREATE TRIGGER analysis_runs_notify_change
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON analysis_runs
    FOR EACH STATEMENT EXECUTE FUNCTION fora_notify_change();
