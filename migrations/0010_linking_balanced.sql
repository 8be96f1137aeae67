-- 0010_linking_balanced.sql - the member-balanced episode protocol of the
-- linking evaluation (api-docs/linking.md): protocol 'episodes_balanced' keeps
-- at most two episodes per member, so every query has one target among one
-- row or two of every other member.  Rows of 'episodes' are unchanged.
ALTER TABLE run_link_eval
    DROP CONSTRAINT run_link_eval_protocol_check,
    ADD CONSTRAINT run_link_eval_protocol_check
        CHECK (protocol IN ('episodes', 'episodes_balanced', 'sybils'));
