-- 0007_trajectories_more.sql - more of the "trajectories" analysis of a run
-- (api-docs/trajectories.md): the analyst's labels beside the rule labels,
-- each group's board-category shares and mean centrality, the zero-inflation
-- coefficients, and the exposure of each member's first and last period.

ALTER TABLE run_trajectory_groups
    ADD COLUMN rule_label       text,              -- the label by the rules (label may be the analyst's)
    ADD COLUMN label_overridden boolean NOT NULL DEFAULT false,
    ADD COLUMN category_shares  jsonb,             -- {"category": share of the group's posts}
    ADD COLUMN centrality       jsonb,             -- mean keyplayers metrics; NULL without keyplayers
    ADD COLUMN zero_coef        jsonb;             -- ZIP: [g0, ..., gz]; ZIP(tau): [log tau]; NULL: Poisson

ALTER TABLE run_trajectory_members
    ADD COLUMN exposure_first double precision,    -- at-risk share of the first period at risk
    ADD COLUMN exposure_last  double precision;    -- ... and of the last
