-- 0003_keyplayers.sql - results of the "keyplayers" analysis of a run.
--
-- Written in the run's transaction (see 0002): a reader sees all of a run's
-- rows or none.  Members are referenced by members.id; the rows keep no copy
-- of any member attribute, the API joins members for ext_id and status.
-- Definitions of every column: api-docs/keyplayers.md.

-- One row per member who posted in the run's window or is in the reply network.
CREATE TABLE run_member_metrics (
    run_id           bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    member_id        bigint NOT NULL,
    posts            bigint NOT NULL,
    threads_started  bigint NOT NULL,
    threads          bigint NOT NULL,
    boards           bigint NOT NULL,
    in_network       boolean NOT NULL,
    in_degree        bigint NOT NULL,
    out_degree       bigint NOT NULL,
    in_strength      double precision NOT NULL,
    out_strength     double precision NOT NULL,
    pagerank         double precision NOT NULL,
    betweenness      double precision NOT NULL,
    betweenness_norm double precision NOT NULL,
    closeness        double precision NOT NULL,
    closeness_wf     double precision NOT NULL,
    harmonic         double precision NOT NULL,
    eigenvector      double precision NOT NULL,
    coreness         bigint NOT NULL,
    burt_constraint  double precision,          -- NULL: no neighbour (undefined)
    effective_size   double precision NOT NULL,
    clustering       double precision NOT NULL,
    community        integer,                   -- NULL outside the network
    component        integer,                   -- NULL outside the network
    composite_score  double precision NOT NULL,
    composite_rank   integer NOT NULL,
    composite_pct    jsonb NOT NULL,            -- {"metric": percentile} for weighted metrics
    PRIMARY KEY (run_id, member_id)
);
CREATE INDEX run_member_metrics_rank ON run_member_metrics (run_id, composite_rank);

-- Members of the key-player sets, in the order the greedy search chose them.
CREATE TABLE run_keyplayer_sets (
    run_id    bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    method    text NOT NULL CHECK (method IN ('kpp_neg', 'kpp_pos')),
    position  integer NOT NULL CHECK (position >= 1),
    member_id bigint NOT NULL,
    gain      double precision,  -- objective after the greedy step that chose it
    PRIMARY KEY (run_id, method, position)
);

-- Disruption curves: one row per strategy and grid step.
CREATE TABLE run_disruption (
    run_id           bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    strategy         text NOT NULL,
    step             integer NOT NULL CHECK (step >= 0),
    removed          integer NOT NULL,
    lcc_share        double precision NOT NULL,
    components       double precision NOT NULL,
    fragmentation    double precision NOT NULL,
    lost_replies     double precision NOT NULL,
    lcc_share_sd     double precision,  -- random only
    components_sd    double precision,
    fragmentation_sd double precision,
    lost_replies_sd  double precision,
    PRIMARY KEY (run_id, strategy, step)
);

CREATE TABLE run_disruption_strategies (
    run_id        bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    strategy      text NOT NULL,
    repetitions   integer NOT NULL,
    robustness    double precision NOT NULL,
    robustness_sd double precision NOT NULL,
    first_removed bigint[] NOT NULL,   -- member ids, in removal order (empty for random)
    PRIMARY KEY (run_id, strategy)
);

CREATE TABLE run_communities (
    run_id      bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    community   integer NOT NULL,      -- 0 = largest
    size        integer NOT NULL,
    internal    double precision NOT NULL,
    total       double precision NOT NULL,
    top_members bigint[] NOT NULL,     -- member ids by PageRank
    PRIMARY KEY (run_id, community)
);

CREATE TABLE run_role_validation (
    run_id      bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    metric      text NOT NULL,         -- a metric name or 'composite'
    auc         double precision,      -- NULL when a class is empty
    precision_k double precision NOT NULL,
    hits_k      integer NOT NULL,
    PRIMARY KEY (run_id, metric)
);

-- The reply graph the run analysed (members.id pairs), for graph export.
CREATE TABLE run_reply_edges (
    run_id    bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    source_id bigint NOT NULL,
    target_id bigint NOT NULL,
    weight    double precision NOT NULL,
    PRIMARY KEY (run_id, source_id, target_id)
);

-- Everything small: graph sizes, sampling, seeds, composite weights, KPP
-- objectives, thread statistics and concentration (one document per run).
CREATE TABLE run_keyplayer_doc (
    run_id bigint PRIMARY KEY REFERENCES analysis_runs ON DELETE CASCADE,
    doc    jsonb NOT NULL
);
