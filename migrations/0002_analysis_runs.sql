-- 0002_analysis_runs.sql - one row per recompute of a forum's analyses.
--
-- A run is inserted as 'running' and committed at once, so that a run that
-- fails or is killed is still on record.  Its results are written, and the
-- run set to 'completed', in one later transaction: readers never see half a
-- run.  Every result table references analysis_runs(id) ON DELETE CASCADE.

CREATE TABLE analysis_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id    bigint NOT NULL REFERENCES forums ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'completed', 'failed')),
    params      jsonb NOT NULL DEFAULT '{}',
    analyses    text[] NOT NULL DEFAULT '{}',  -- which analyses the run computed
    watermark   bigint NOT NULL,               -- forums.data_version it saw
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    timings     jsonb NOT NULL DEFAULT '{}',   -- seconds per step
    error       text,
    CHECK ((status = 'running') = (finished_at IS NULL)),
    CHECK ((status = 'failed') = (error IS NOT NULL))
);
CREATE INDEX analysis_runs_forum ON analysis_runs (forum_id, id DESC);

-- The snapshot summary every run stores: sizes and time span of what it saw.
CREATE TABLE run_summary (
    run_id          bigint PRIMARY KEY REFERENCES analysis_runs ON DELETE CASCADE,
    boards          bigint NOT NULL,
    members         bigint NOT NULL,
    posting_members bigint NOT NULL,
    threads         bigint NOT NULL,
    posts           bigint NOT NULL,
    replies         bigint NOT NULL,   -- posts with a reply target under the run's rule
    events          bigint NOT NULL,
    first_post_at   timestamptz,
    last_post_at    timestamptz,
    reply_graph_vertices bigint NOT NULL,
    reply_graph_edges    bigint NOT NULL,
    reply_graph_weight   bigint NOT NULL,
    bipartite_edges      bigint NOT NULL
);
