-- 0008_linking.sql - results of the "linking" analysis of a run: account
-- linking from structure and timing (api-docs/linking.md).
--
-- Written in the run's transaction (see 0002).  Members are referenced by
-- members.id; the API joins members for ext_id.

-- The retrieval evaluation: one row per protocol, episode length and view.
-- protocol 'episodes': within-forum episodes of episode_len posts;
-- 'sybils': whole histories (episode_len 0) of members split in two.
-- view 'random' is the analytic random-order baseline.  When no member has
-- two episodes of that length, the 'both' row alone is stored with the reason
-- and NULL metrics.
CREATE TABLE run_link_eval (
    run_id       bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    protocol     text NOT NULL CHECK (protocol IN ('episodes', 'sybils')),
    episode_len  integer NOT NULL CHECK (episode_len >= 0),
    view         text NOT NULL CHECK (view IN ('time', 'context', 'both', 'random')),
    rows         integer NOT NULL,  -- episodes (or members) fingerprinted
    queries      integer NOT NULL,
    candidates   integer NOT NULL,  -- rows ranked by each query
    mrr          double precision,
    recall_at_10 double precision,
    mean_rank    double precision,
    reason       text,              -- why there are no metrics, or NULL
    PRIMARY KEY (run_id, protocol, episode_len, view)
);

-- The k most similar members of every member with a fingerprint (whole
-- posting history, combined view), best first, with each component's cosine.
CREATE TABLE run_link_similar (
    run_id       bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    member_id    bigint NOT NULL,
    rank         integer NOT NULL CHECK (rank >= 1),
    other_id     bigint NOT NULL,
    similarity   double precision NOT NULL,
    hour_of_week double precision NOT NULL,
    gaps         double precision NOT NULL,
    session      double precision NOT NULL,
    embedding    double precision NOT NULL,
    category     double precision NOT NULL,
    PRIMARY KEY (run_id, member_id, rank)
);

-- Members without a fingerprint and why ("no posts").
CREATE TABLE run_link_skipped (
    run_id    bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    member_id bigint NOT NULL,
    reason    text NOT NULL,
    PRIMARY KEY (run_id, member_id)
);
