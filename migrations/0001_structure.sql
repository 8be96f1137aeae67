-- 0001_structure.sql - forum structure: who posted when, where, replying to whom.
--
-- Structural metadata only: no column holds message text, titles, signatures
-- or profile text.  Every entity table is keyed by (forum_id, id) so that
-- composite foreign keys make cross-forum references impossible; ext_id is the
-- identifier the source system used (unique per forum) and is what importers
-- match on, so re-importing the same data changes nothing.

CREATE FUNCTION fora_is_timezone(tz text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz)
$$;

CREATE TABLE forums (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE
                 CHECK (name ~ '^[A-Za-z][A-Za-z0-9_.-]{0,62}$'),
    source       text NOT NULL DEFAULT '',
    timezone     text NOT NULL DEFAULT 'UTC' CHECK (fora_is_timezone(timezone)),
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- bumped by every import that changed something: the data watermark that
    -- analysis runs record, so stale results can be told apart
    data_version bigint NOT NULL DEFAULT 0 CHECK (data_version >= 0)
);

CREATE TABLE boards (
    id        bigint GENERATED ALWAYS AS IDENTITY,
    forum_id  bigint NOT NULL REFERENCES forums ON DELETE CASCADE,
    ext_id    text NOT NULL CHECK (ext_id <> ''),
    parent_id bigint,
    category  text NOT NULL DEFAULT '' CHECK (length(category) <= 64),
    PRIMARY KEY (forum_id, id),
    UNIQUE (forum_id, ext_id),
    FOREIGN KEY (forum_id, parent_id) REFERENCES boards (forum_id, id),
    CHECK (parent_id <> id)
);

CREATE TABLE members (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    forum_id      bigint NOT NULL REFERENCES forums ON DELETE CASCADE,
    ext_id        text NOT NULL CHECK (ext_id <> ''),
    -- an optional keyed pseudonym (e.g. an HMAC of the handle), never the handle
    pseudonym     text CHECK (length(pseudonym) <= 128),
    registered_at timestamptz,
    status        text NOT NULL DEFAULT '' CHECK (length(status) <= 64),
    banned_at     timestamptz,
    PRIMARY KEY (forum_id, id),
    UNIQUE (forum_id, ext_id),
    CHECK (banned_at IS NULL OR registered_at IS NULL OR banned_at >= registered_at)
);

CREATE TABLE threads (
    id         bigint GENERATED ALWAYS AS IDENTITY,
    forum_id   bigint NOT NULL REFERENCES forums ON DELETE CASCADE,
    ext_id     text NOT NULL CHECK (ext_id <> ''),
    board_id   bigint NOT NULL,
    starter_id bigint,              -- NULL: the account was deleted at the source
    created_at timestamptz NOT NULL,
    PRIMARY KEY (forum_id, id),
    UNIQUE (forum_id, ext_id),
    UNIQUE (forum_id, id, created_at),
    FOREIGN KEY (forum_id, board_id) REFERENCES boards (forum_id, id),
    FOREIGN KEY (forum_id, starter_id) REFERENCES members (forum_id, id)
);

CREATE TABLE posts (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    -- no direct key to forums: the thread's key below implies the forum, and
    -- a forum's posts go with its threads (ON DELETE CASCADE)
    forum_id          bigint NOT NULL,
    ext_id            text NOT NULL CHECK (ext_id <> ''),
    thread_id         bigint NOT NULL,
    -- copy of the thread's created_at: with the foreign key below it lets a
    -- CHECK forbid a post older than its thread
    thread_created_at timestamptz NOT NULL,
    author_id         bigint,       -- NULL: the account was deleted at the source
    created_at        timestamptz NOT NULL,
    reply_to          bigint,       -- the post this one answers, in the same forum
    PRIMARY KEY (forum_id, id),
    UNIQUE (forum_id, ext_id),
    FOREIGN KEY (forum_id, thread_id, thread_created_at)
        REFERENCES threads (forum_id, id, created_at) ON DELETE CASCADE,
    FOREIGN KEY (forum_id, author_id) REFERENCES members (forum_id, id),
    FOREIGN KEY (forum_id, reply_to) REFERENCES posts (forum_id, id),
    CHECK (created_at >= thread_created_at),
    CHECK (reply_to <> id)
);

-- Indexes on the referencing side of every foreign key: deleting a forum
-- (ON DELETE CASCADE) or a member checks the rows that point at it, and
-- without these each check would scan the table.  They also serve "posts by
-- member", "replies to post" and "threads in board" look-ups.
CREATE INDEX boards_parent ON boards (forum_id, parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX threads_board ON threads (forum_id, board_id);
CREATE INDEX threads_starter ON threads (forum_id, starter_id) WHERE starter_id IS NOT NULL;
CREATE INDEX posts_thread ON posts (forum_id, thread_id, thread_created_at);
CREATE INDEX posts_author ON posts (forum_id, author_id) WHERE author_id IS NOT NULL;
CREATE INDEX posts_reply_to ON posts (forum_id, reply_to) WHERE reply_to IS NOT NULL;

-- non-posting activity: visits, clicks, downloads, ...
CREATE TABLE member_events (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    forum_id    bigint NOT NULL,     -- implied by the member's key below
    member_id   bigint NOT NULL,
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,31}$'),
    occurred_at timestamptz NOT NULL,
    board_id    bigint,
    PRIMARY KEY (forum_id, id),
    -- an event is its member, kind, time and board: importing it twice is a no-op
    UNIQUE NULLS NOT DISTINCT (forum_id, member_id, kind, occurred_at, board_id),
    FOREIGN KEY (forum_id, member_id) REFERENCES members (forum_id, id) ON DELETE CASCADE,
    FOREIGN KEY (forum_id, board_id) REFERENCES boards (forum_id, id)
);
CREATE INDEX member_events_board ON member_events (forum_id, board_id) WHERE board_id IS NOT NULL;

-- pairs of accounts, across or within forums, known to be one person; kept in
-- a canonical order (a < b) so each pair is stored once per source
CREATE TABLE member_links (
    forum_a  bigint NOT NULL,
    member_a bigint NOT NULL,
    forum_b  bigint NOT NULL,
    member_b bigint NOT NULL,
    source   text NOT NULL CHECK (source <> '' AND length(source) <= 64),
    PRIMARY KEY (member_a, member_b, source),
    FOREIGN KEY (forum_a, member_a) REFERENCES members (forum_id, id) ON DELETE CASCADE,
    FOREIGN KEY (forum_b, member_b) REFERENCES members (forum_id, id) ON DELETE CASCADE,
    CHECK (member_a < member_b)
);
CREATE INDEX member_links_b ON member_links (member_b);

-- one row per import, for audit and for the "stale results" watermark
CREATE TABLE imports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id    bigint NOT NULL REFERENCES forums ON DELETE CASCADE,
    format      text NOT NULL CHECK (format IN ('csv', 'stackexchange', 'synth')),
    path        text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    rows_read     jsonb NOT NULL,   -- per file: rows read
    rows_inserted jsonb NOT NULL,   -- per table: rows added or changed
    rows_rejected bigint NOT NULL DEFAULT 0,
    data_version  bigint NOT NULL   -- forums.data_version after this import
);
