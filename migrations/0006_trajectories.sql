-- 0006_trajectories.sql - results of the "trajectories" analysis of a run
-- (group-based trajectory models of members' monthly posts).
--
-- Written in the run's transaction (see 0002).  Members are referenced by
-- members.id; the API joins members for ext_id and status.  Definitions of
-- every column: api-docs/trajectories.md, "Forum trajectories".

-- The model comparison: one row per K tried.
CREATE TABLE run_trajectory_models (
    run_id         bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    k              integer NOT NULL CHECK (k >= 1),
    fitted         boolean NOT NULL,
    eligible       boolean NOT NULL,  -- fitted and smallest pi >= min_share
    selected       boolean NOT NULL,
    loglik         double precision,  -- NULL when not fitted
    bic            double precision,  -- N = members fitted
    bic_cells      double precision,  -- N = at-risk member-months
    aic            double precision,
    entropy        double precision,  -- NULL for K = 1
    npar           integer,
    min_pi         double precision,
    converged      boolean,
    starts         integer,
    starts_at_best integer,
    PRIMARY KEY (run_id, k)
);

-- The groups of the selected model, numbered 1.. by increasing mean fitted rate.
CREATE TABLE run_trajectory_groups (
    run_id           bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    grp              integer NOT NULL CHECK (grp >= 1),
    label            text NOT NULL,
    size             bigint NOT NULL,
    pi               double precision NOT NULL,
    pi_se            double precision,
    avepp            double precision,
    occ              double precision,
    mean_onset       double precision,
    mean_duration    double precision,
    mean_posts       double precision,
    rate             double precision,
    first_week_share double precision,
    staff_share      double precision,
    slope            double precision,
    trend            text NOT NULL CHECK (trend IN ('declining', 'stable', 'escalating')),
    coef             jsonb NOT NULL,  -- [b0, b1, ...] on x = period / 12
    curve            jsonb NOT NULL,  -- {"lambda": [...], "lower": [...], "upper": [...]}
    PRIMARY KEY (run_id, grp)
);

-- Every member who posted.
CREATE TABLE run_trajectory_members (
    run_id        bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    member_id     bigint NOT NULL,
    grp           integer NOT NULL,
    posterior     double precision NOT NULL,
    posteriors    jsonb NOT NULL,  -- [p_1, ..., p_K]
    onset         integer NOT NULL,  -- forum month of the first post
    last_month    integer NOT NULL,
    at_risk_from  integer NOT NULL,
    posts         bigint NOT NULL,
    first_week    boolean NOT NULL,
    trend_defined boolean NOT NULL,
    slope         double precision,
    slope_lo      double precision,
    slope_hi      double precision,
    escalating    boolean NOT NULL,
    counts        jsonb NOT NULL,  -- per period: the count, or null when not at risk
    PRIMARY KEY (run_id, member_id)
);
CREATE INDEX run_trajectory_members_grp ON run_trajectory_members (run_id, grp, posterior DESC, member_id);

-- Run-level facts of the analysis (periods, options, sizes).
CREATE TABLE run_trajectory_doc (
    run_id bigint PRIMARY KEY REFERENCES analysis_runs ON DELETE CASCADE,
    doc    jsonb NOT NULL
);
