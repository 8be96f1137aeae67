-- 0010_linking_balanced.sql - two refinements of the linking evaluation
-- (api-docs/linking.md):
--  * protocol 'episodes_balanced': the episode protocol on a member-balanced
--    pool, at most two episodes per member, so every query has one target
--    among one row or two of every other member;
--  * weights: the component weights of the view, fitted on one half of the
--    members and used on the other half's queries:
--    [{"hour_of_week": w, "gaps": w, ...} for fold 0, the same for fold 1];
--    NULL for the random baseline.  `fitted` says whether they were fitted
--    (false: the fixed weights, when a fold has too few queries).
ALTER TABLE run_link_eval
    DROP CONSTRAINT run_link_eval_protocol_check,
    ADD CONSTRAINT run_link_eval_protocol_check
        CHECK (protocol IN ('episodes', 'episodes_balanced', 'sybils')),
    ADD COLUMN fitted boolean,
    ADD COLUMN weights jsonb;
