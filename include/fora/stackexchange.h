/*
 * fora/stackexchange.h - convert a Stack Exchange data dump into a fora CSV
 * bundle (api-docs/csv-bundle.md).
 *
 * A Stack Exchange site dump (https://archive.org/details/stackexchange) is a
 * folder of XML files with one <row .../> element per record.  The converter
 * streams Badges.xml (optional), Users.xml, Posts.xml and Comments.xml through
 * expat in 256 KiB chunks and writes the structure of the site - who posted
 * what, when, in reply to what - as a bundle that `fora import --format csv`
 * loads.  Each input may also be given gzip-compressed (`Posts.xml.gz`); the
 * plain name is tried first.
 *
 * No text leaves the dump: only the structural attributes are read, by name
 * (ids, dates, post types, reputation, badge names, the first tag); Body,
 * Title, Text, DisplayName, AboutMe, Location and WebsiteUrl are never copied.
 *
 * Mapping (the same table is in server/sample/README.md; keep them in step)
 *
 *   forum.csv    name = opts->forum_name, source = opts->source, timezone `UTC`.
 *   members.csv  one row per Users.xml row: member_id = Id, registered_at =
 *                CreationDate, pseudonym and banned_at empty (dumps publish no
 *                bans), status =
 *                  `system`     for Id -1 (the Community bot);
 *                  `moderator`  if Badges.xml gives the user a `Constable` or
 *                               `Sheriff` badge (awarded to moderators only);
 *                  `rep_10000`, `rep_3000`, `rep_1000`, `rep_200`, `rep_15`,
 *                  `rep_1`      otherwise: the highest bound <= Reputation;
 *                  empty        when Reputation is missing or below 1.
 *   events.csv   one `visit` per user at LastAccessDate, board_id empty; none
 *                when the attribute is missing.
 *   threads.csv  one row per question (Posts.xml PostTypeId 1): thread_id =
 *                Id, board_id = its first tag, starter_id = OwnerUserId,
 *                created_at = the earliest created_at of any post (question,
 *                answer, comment) in the thread.
 *   boards.csv   one row per board used: board_id = the tag, category `tag`,
 *                no parent; questions without tags go to board `untagged`,
 *                category `untagged`.  Tags are read in both dump forms,
 *                `<hops><ipa>` and (newer dumps) `|hops|ipa|`.
 *   posts.csv    question (PostTypeId 1): post_id = thread_id = Id, reply_to
 *                  empty;
 *                answer (PostTypeId 2): post_id = Id, thread_id = reply_to =
 *                  ParentId; skipped when ParentId is not a kept question;
 *                other types (tag-wiki excerpts 4 and bodies 5, moderator
 *                  nominations, wiki placeholders, ...): skipped;
 *                comment (Comments.xml): post_id = `c` + Id (comments have
 *                  their own id space), thread_id = the commented post's
 *                  thread, reply_to = PostId; skipped when PostId is not a
 *                  kept post.
 *
 * author_id (posts) and starter_id (threads) are OwnerUserId / UserId, written
 * empty when the attribute is missing or the id is not in Users.xml (a deleted
 * account), so the bundle never holds a dangling member reference.
 *
 * Reputation bands follow the privilege levels of a graduated Stack Exchange
 * site: 1 create posts, 15 vote up, 200 reduced ads (past the +100
 * association bonus), 1000 established user, 3000 cast close and reopen votes,
 * 10000 access to moderator tools.  Sites in beta grant several of these at
 * lower reputation; the bands stay the same for every site so that dumps
 * compare.
 *
 * Timestamps (`2014-01-21T20:26:05.383`, UTC without a zone, which the bundle
 * format accepts) are checked and written as they appear, except
 * threads.csv's created_at, which is kept as microseconds and written back in
 * the same form with three fractional digits (six when it has sub-millisecond
 * digits).  Answers can predate their question (answers merged in from another
 * question keep their date), and the bundle forbids a post older than its
 * thread, hence the minimum.
 *
 * Bundle rows are written in an order in which every reference points to an
 * earlier row: questions and answers in dump order, then answers that appeared
 * before their question, then comments.
 *
 * Memory: expat's 256 KiB buffer plus, per user, one int; per post, two; per
 * thread, six; per board its name; per answer met before its question, its
 * timestamp too.  Nothing is sized by the largest id, and no text is held.
 * Ids must fit in 32 bits (they are SQL `int` in Stack Exchange).
 */
#ifndef FORA_STACKEXCHANGE_H
#define FORA_STACKEXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "fora/error.h"

/* Options of fora_se_convert(); a NULL opts means all defaults. */
typedef struct fora_se_opts {
    const char *forum_name; /* forum.csv name; NULL: "stackexchange" */
    const char *source;     /* forum.csv source; NULL: "stackexchange data dump" */
    bool quiet;             /* no progress output on stderr */
    bool gzip;              /* write `*.csv.gz` instead of `*.csv` */
} fora_se_opts_t;

/* What fora_se_convert() wrote and left out. */
typedef struct fora_se_stats {
    int64_t users;            /* rows of members.csv */
    int64_t questions;        /* rows of threads.csv (= question rows of posts.csv) */
    int64_t answers;          /* answer rows of posts.csv */
    int64_t comments;         /* comment rows of posts.csv */
    int64_t boards;           /* rows of boards.csv */
    int64_t skipped_posts;    /* Posts.xml rows not written (other types, orphan answers) */
    int64_t skipped_comments; /* Comments.xml rows on a post not written */
    int64_t visits;           /* rows of events.csv */
} fora_se_stats_t;

/*
 * Converts the Stack Exchange dump in `dump_dir` into a CSV bundle in
 * `out_dir`, which is created (with its parents) when missing.
 *
 * Reads dump_dir/Users.xml, Posts.xml, Comments.xml (required) and Badges.xml
 * (optional), each plain or with a `.gz` suffix.  Writes forum.csv,
 * boards.csv, members.csv, threads.csv, posts.csv and events.csv (with a
 * `.gz` suffix when opts->gzip), overwriting files of those names; files of
 * the other suffix are left alone, so start from an empty folder.
 *
 * opts may be NULL (defaults).  stats may be NULL; when given it is zeroed
 * first and filled in as far as the conversion got.  Progress goes to stderr
 * (one line or bar per input file) unless opts->quiet.
 *
 * Returns FORA_OK, or with the detail in diag:
 *   ENOTFOUND  a required input file is missing (checked before anything is
 *              written);
 *   EPARSE     malformed XML ("file:line:column: ..." from expat), or
 *              ("file:line: ...") an unexpected root element, a row without
 *              Id, CreationDate or (posts) PostTypeId, a bad integer or
 *              timestamp, an id outside 32 bits, a duplicate user or post Id
 *              (found after sorting, without a line, in a dump out of order);
 *   EIO        an input could not be read or an output written;
 *   ENOMEM     the id tables outgrew memory.
 * On error out_dir may hold partial files; import a bundle only after a
 * successful conversion.
 *
 * Time: O(input size + p log p) for p posts (the sort is skipped when the dump
 * is in Id order, as real dumps are).
 * Thread safety: reentrant; no global state.
 */
fora_err_t fora_se_convert(const char *dump_dir, const char *out_dir, const fora_se_opts_t *opts,
                           fora_se_stats_t *stats, fora_diag_t *diag) FORA_MUST_CHECK;

#endif /* FORA_STACKEXCHANGE_H */
