-- 0005_recompute_jobs.sql - the recompute queue (POST /v1/forums/{forum}/recompute).
--
-- Workers (`fora serve`'s worker thread, `fora worker` processes, on any
-- machine sharing the database) claim the oldest queued job with
-- FOR UPDATE SKIP LOCKED, so two workers never take the same job.  While it
-- computes, a worker holds the advisory lock (1, id); a job left 'running'
-- whose lock is free was interrupted, and the next worker marks it failed.

CREATE TABLE recompute_jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id     bigint NOT NULL REFERENCES forums ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    params       jsonb NOT NULL DEFAULT '{}',   -- seed, only
    requested_by bigint REFERENCES api_tokens,  -- the admin token that queued it
    worker       text,                          -- host:pid that claimed it
    progress     text NOT NULL DEFAULT '',      -- the step being computed
    run_id       bigint REFERENCES analysis_runs ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at   timestamptz,
    finished_at  timestamptz,
    error        text,
    CHECK ((status = 'failed') = (error IS NOT NULL)),
    CHECK ((status IN ('completed', 'failed')) = (finished_at IS NOT NULL))
);
CREATE INDEX recompute_jobs_queued ON recompute_jobs (id) WHERE status = 'queued';
CREATE INDEX recompute_jobs_forum ON recompute_jobs (forum_id, id DESC);
