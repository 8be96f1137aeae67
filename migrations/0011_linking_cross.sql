-- 0011_linking_cross.sql - results of the "linking_cross" analysis of a run:
-- account linking between the run's forum and another forum (run option
-- link_with; api-docs/linking.md, "Across forums").
--
-- Written in the run's transaction (see 0002).  member_id is a member of the
-- run's forum, other_id a member of other_forum_id; the API joins members for
-- ext_id.  Known pairs (member_links) are used for the evaluation only.

-- One row per run that linked with another forum: the options, the notes,
-- the members compared on each side and the evaluation against member_links
-- (the "summary" document of fora link pairs, without the candidates).
CREATE TABLE run_link_cross (
    run_id         bigint NOT NULL REFERENCES analysis_runs ON DELETE CASCADE,
    other_forum_id bigint NOT NULL REFERENCES forums ON DELETE CASCADE,
    summary        jsonb NOT NULL,
    PRIMARY KEY (run_id, other_forum_id)
);

-- The candidate pairs, best first: every compared member's k most similar
-- members of the other forum, both ways, merged; per-component cosines
-- (category NULL when the forums share fewer than two category names).
CREATE TABLE run_link_cross_pairs (
    run_id          bigint NOT NULL,
    other_forum_id  bigint NOT NULL,
    rank            integer NOT NULL CHECK (rank >= 1),
    member_id       bigint NOT NULL,
    other_id        bigint NOT NULL,
    similarity      double precision NOT NULL,
    mutual          boolean NOT NULL,
    rank_for_member integer,   -- other_id's rank in member_id's list, or NULL
    rank_for_other  integer,   -- member_id's rank in other_id's list, or NULL
    posts           integer NOT NULL,
    other_posts     integer NOT NULL,
    hour_of_week    double precision NOT NULL,
    gaps            double precision NOT NULL,
    session         double precision NOT NULL,
    category        double precision,
    PRIMARY KEY (run_id, other_forum_id, rank),
    FOREIGN KEY (run_id, other_forum_id) REFERENCES run_link_cross ON DELETE CASCADE
);
CREATE INDEX run_link_cross_pairs_member
    ON run_link_cross_pairs (run_id, other_forum_id, member_id, rank_for_member);

-- Members of the run's forum that were not compared, and why ("no posts",
-- "fewer posts than min_posts: too little to compare").
CREATE TABLE run_link_cross_skipped (
    run_id         bigint NOT NULL,
    other_forum_id bigint NOT NULL,
    member_id      bigint NOT NULL,
    reason         text NOT NULL,
    PRIMARY KEY (run_id, other_forum_id, member_id),
    FOREIGN KEY (run_id, other_forum_id) REFERENCES run_link_cross ON DELETE CASCADE
);
