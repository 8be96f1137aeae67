/*
 * tests/unit/test_snapshot.c - the snapshot builder, its sorting and lookups,
 * and the id maps, string pools and radix sort under it.
 */
#include "fora/snapshot.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fora_test.h"

#define NONE FORA_ID_NONE
#define TNONE FORA_TIME_NONE

/*
 * The hand-built forum.  Posts are added out of time order; sorted by
 * (created_at, id) they are
 *   index: 0    1    2    3    4    5
 *   id:    300  305  301  302  303  304
 *   time:  2000 2050 2100 2100 2500 2600
 *   reply: -    300  300  301  -    303   (database ids)
 *   -> reply_to indices: -1 0 0 2 -1 4
 */
static fora_snapshot_t *build_small(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(7, "small", "Europe/Berlin", 3, &s, &d), &d);

    ASSERT_OK(fora_snapshot_add_board(s, 10, "general", NONE, "main", &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 11, "offtopic", 12, NULL, &d), &d); /* forward parent */
    ASSERT_OK(fora_snapshot_add_board(s, 12, "lounge", NONE, "main", &d), &d);

    ASSERT_OK(fora_snapshot_add_member(s, 100, "alice", 1000, "admin", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 101, "bob", TNONE, "", TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 102, "carol", 1100, "member", 5000, &d), &d);

    ASSERT_OK(fora_snapshot_add_thread(s, 200, "t-a", 10, 100, 2000, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 201, "t-b", 11, NONE, 2500, &d), &d);

    ASSERT_OK(fora_snapshot_add_post(s, 300, 200, 100, 2000, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 304, 201, 101, 2600, 303, &d), &d); /* forward reply */
    ASSERT_OK(fora_snapshot_add_post(s, 302, 200, 102, 2100, 301, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 301, 200, 101, 2100, 300, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 303, 201, NONE, 2500, NONE, &d), &d); /* deleted author */
    ASSERT_OK(fora_snapshot_add_post(s, 305, 200, 100, 2050, 300, &d), &d);

    /* sorted by (at, member, kind, board): e2 e5 e1 e4 e3 */
    ASSERT_OK(fora_snapshot_add_event(s, 101, "visit", 3000, 10, &d), &d);   /* e1 */
    ASSERT_OK(fora_snapshot_add_event(s, 100, "click", 1500, NONE, &d), &d); /* e2 */
    ASSERT_OK(fora_snapshot_add_event(s, 102, "visit", 3000, 12, &d), &d);   /* e3 */
    ASSERT_OK(fora_snapshot_add_event(s, 101, "click", 3000, 10, &d), &d);   /* e4 */
    ASSERT_OK(fora_snapshot_add_event(s, 101, "visit", 2000, NONE, &d), &d); /* e5 */

    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    ASSERT(s->build == NULL);
    return s;
}

static void test_forum_and_tables(void)
{
    fora_snapshot_t *s = build_small();
    ASSERT_EQ(s->forum.id, 7);
    ASSERT_STR_EQ(s->forum.name, "small");
    ASSERT_STR_EQ(s->forum.timezone, "Europe/Berlin");
    ASSERT_EQ(s->forum.data_version, 3);

    ASSERT_EQ(s->boards.n, 3);
    ASSERT_STR_EQ(fora_snapshot_board_ext(s, 1), "offtopic");
    ASSERT_EQ(s->boards.parent[0], -1);
    ASSERT_EQ(s->boards.parent[1], 2);
    ASSERT_EQ(s->boards.parent[2], -1);
    ASSERT_EQ(s->categories.n, 2); /* "main", "" */
    ASSERT_STR_EQ(fora_snapshot_board_category(s, 0), "main");
    ASSERT_STR_EQ(fora_snapshot_board_category(s, 1), "");
    ASSERT_EQ(s->boards.category[0], s->boards.category[2]);
    ASSERT_EQ(fora_snapshot_category_index(s, "main"), 0);
    ASSERT_EQ(fora_snapshot_category_index(s, "nope"), -1);

    ASSERT_EQ(s->members.n, 3);
    ASSERT_EQ(s->members.id[2], 102);
    ASSERT_STR_EQ(fora_snapshot_member_ext(s, 0), "alice");
    ASSERT_STR_EQ(fora_snapshot_member_ext(s, 2), "carol");
    ASSERT_EQ(s->members.registered_at[0], 1000);
    ASSERT_EQ(s->members.registered_at[1], TNONE);
    ASSERT_EQ(s->members.banned_at[2], 5000);
    ASSERT_EQ(s->members.banned_at[0], TNONE);
    ASSERT_EQ(s->statuses.n, 3);
    ASSERT_STR_EQ(fora_snapshot_member_status(s, 0), "admin");
    ASSERT_STR_EQ(fora_snapshot_member_status(s, 1), "");
    ASSERT_STR_EQ(fora_snapshot_member_status(s, 2), "member");
    ASSERT_EQ(fora_snapshot_status_index(s, "member"), 2);

    ASSERT_EQ(s->threads.n, 2);
    ASSERT_EQ(s->threads.board[0], 0);
    ASSERT_EQ(s->threads.board[1], 1);
    ASSERT_EQ(s->threads.starter[0], 0);
    ASSERT_EQ(s->threads.starter[1], -1);
    ASSERT_EQ(s->threads.created_at[1], 2500);
    ASSERT_STR_EQ(fora_snapshot_thread_ext(s, 1), "t-b");
    fora_snapshot_destroy(s);
}

static void test_post_order_and_replies(void)
{
    fora_snapshot_t *s = build_small();
    static const int64_t ids[] = {300, 305, 301, 302, 303, 304};
    static const int64_t times[] = {2000, 2050, 2100, 2100, 2500, 2600};
    static const int32_t threads[] = {0, 0, 0, 0, 1, 1};
    static const int32_t authors[] = {0, 0, 1, 2, -1, 1};
    static const int32_t replies[] = {-1, 0, 0, 2, -1, 4};
    ASSERT_EQ(s->posts.n, 6);
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(s->posts.id[i], ids[i]);
        ASSERT_EQ(s->posts.created_at[i], times[i]);
        ASSERT_EQ(s->posts.thread[i], threads[i]);
        ASSERT_EQ(s->posts.author[i], authors[i]);
        ASSERT_EQ(s->posts.reply_to[i], replies[i]);
        ASSERT_EQ(fora_snapshot_post_by_id(s, ids[i]), i);
    }
    ASSERT_EQ(s->threads.first_post[0], 0);
    ASSERT_EQ(s->threads.first_post[1], 4);
    fora_snapshot_destroy(s);
}

static void test_events(void)
{
    fora_snapshot_t *s = build_small();
    static const int64_t at[] = {1500, 2000, 3000, 3000, 3000};
    static const int32_t member[] = {0, 1, 1, 1, 2};
    static const char *const kind[] = {"click", "visit", "visit", "click", "visit"};
    static const int32_t board[] = {-1, -1, 0, 0, 2};
    ASSERT_EQ(s->events.n, 5);
    ASSERT_EQ(s->kinds.n, 2);
    ASSERT_EQ(fora_snapshot_kind_index(s, "visit"), 0);
    ASSERT_EQ(fora_snapshot_kind_index(s, "click"), 1);
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(s->events.at[i], at[i]);
        ASSERT_EQ(s->events.member[i], member[i]);
        ASSERT_STR_EQ(fora_snapshot_event_kind(s, i), kind[i]);
        ASSERT_EQ(s->events.board[i], board[i]);
    }
    fora_snapshot_destroy(s);
}

static void test_lookups(void)
{
    fora_snapshot_t *s = build_small();
    ASSERT_EQ(fora_snapshot_member_by_ext(s, "bob"), 1);
    ASSERT_EQ(fora_snapshot_member_by_ext(s, "carol"), 2);
    ASSERT_EQ(fora_snapshot_member_by_ext(s, "bo"), -1);
    ASSERT_EQ(fora_snapshot_member_by_ext(s, ""), -1);
    ASSERT_EQ(fora_snapshot_member_by_id(s, 102), 2);
    ASSERT_EQ(fora_snapshot_member_by_id(s, 99), -1);
    ASSERT_EQ(fora_snapshot_member_by_id(s, 103), -1);
    ASSERT_EQ(fora_snapshot_board_by_ext(s, "lounge"), 2);
    ASSERT_EQ(fora_snapshot_board_by_id(s, 11), 1);
    ASSERT_EQ(fora_snapshot_thread_by_ext(s, "t-b"), 1);
    ASSERT_EQ(fora_snapshot_thread_by_id(s, 200), 0);
    ASSERT_EQ(fora_snapshot_thread_by_id(s, 202), -1);
    ASSERT_EQ(fora_snapshot_post_by_id(s, 306), -1);
    ASSERT_EQ(fora_snapshot_post_by_id(s, INT64_MIN), -1);
    ASSERT(fora_snapshot_bytes(s) > 0);
    fora_snapshot_destroy(s);
}

static void test_windows(void)
{
    fora_snapshot_t *s = build_small();
    int32_t lo, hi;
    fora_snapshot_post_window(s, 2050, 2500, &lo, &hi);
    ASSERT_EQ(lo, 1);
    ASSERT_EQ(hi, 4);
    fora_snapshot_post_window(s, TNONE, 2100, &lo, &hi);
    ASSERT_EQ(lo, 0);
    ASSERT_EQ(hi, 2);
    fora_snapshot_post_window(s, 2100, 2101, &lo, &hi); /* both posts at 2100 */
    ASSERT_EQ(lo, 2);
    ASSERT_EQ(hi, 4);
    fora_snapshot_post_window(s, 2600, TNONE, &lo, &hi);
    ASSERT_EQ(lo, 5);
    ASSERT_EQ(hi, 6);
    fora_snapshot_post_window(s, 2601, TNONE, &lo, &hi);
    ASSERT_EQ(lo, 6);
    ASSERT_EQ(hi, 6);
    fora_snapshot_post_window(s, TNONE, TNONE, &lo, &hi);
    ASSERT_EQ(lo, 0);
    ASSERT_EQ(hi, 6);
    fora_snapshot_post_window(s, 3000, 1000, &lo, &hi); /* empty: from >= to */
    ASSERT_EQ(hi - lo, 0);
    fora_snapshot_event_window(s, 2000, 3000, &lo, &hi);
    ASSERT_EQ(lo, 1);
    ASSERT_EQ(hi, 2);
    fora_snapshot_event_window(s, 1501, TNONE, &lo, &hi);
    ASSERT_EQ(lo, 1);
    ASSERT_EQ(hi, 5);

    ASSERT(fora_time_in_window(5, 5, 6));
    ASSERT(!fora_time_in_window(6, 5, 6));
    ASSERT(!fora_time_in_window(4, 5, TNONE));
    ASSERT(fora_time_in_window(-100, TNONE, 0));
    ASSERT(fora_time_in_window(TNONE, TNONE, TNONE));
    ASSERT(!fora_time_in_window(TNONE, TNONE, 10));
    fora_snapshot_destroy(s);
}

static void test_empty(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    ASSERT_OK(fora_snapshot_create(1, "empty", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    ASSERT_STR_EQ(s->forum.timezone, "UTC");
    ASSERT_EQ(s->posts.n, 0);
    ASSERT_EQ(fora_snapshot_member_by_ext(s, "x"), -1);
    ASSERT_EQ(fora_snapshot_member_by_id(s, 1), -1);
    int32_t lo = -5, hi = -5;
    fora_snapshot_post_window(s, TNONE, TNONE, &lo, &hi);
    ASSERT_EQ(lo, 0);
    ASSERT_EQ(hi, 0);
    /* a finished snapshot takes no more rows */
    ASSERT_EQ(fora_snapshot_add_member(s, 1, "m", TNONE, NULL, TNONE, &d), FORA_EINVAL);
    fora_snapshot_destroy(s);
    fora_snapshot_destroy(NULL);
}

/* Runs a builder that must fail with EINVAL and a message containing `needle`. */
static void expect_einval(fora_err_t err, fora_diag_t *d, const char *needle)
{
    ASSERT_EQ(err, FORA_EINVAL);
    ASSERT_EQ(d->code, FORA_EINVAL);
    if (strstr(d->msg, needle) == NULL) FORA_FAIL("message \"%s\" lacks \"%s\"", d->msg, needle);
}

static void test_errors(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;

    /* unknown thread */
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "m", TNONE, NULL, TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 1, "t", 1, 1, 10, &d), &d);
    expect_einval(fora_snapshot_add_post(s, 5, 2, 1, 10, NONE, &d), &d, "post 5: unknown thread 2");
    fora_diag_clear(&d);
    ASSERT_EQ(fora_snapshot_finish(s, &d), FORA_EINVAL); /* a failed builder stays failed */
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);

    /* unknown author, unknown board, unknown starter */
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "m", TNONE, NULL, TNONE, &d), &d);
    expect_einval(fora_snapshot_add_thread(s, 1, "t", 2, 1, 10, &d), &d, "unknown board 2");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    expect_einval(fora_snapshot_add_thread(s, 1, "t", 1, 9, 10, &d), &d, "unknown starter 9");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);

    /* unknown reply_to: found when the posts are complete */
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 1, "t", 1, NONE, 10, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 5, 1, NONE, 10, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 6, 1, NONE, 11, 99, &d), &d);
    expect_einval(fora_snapshot_finish(s, &d), &d, "post 6: unknown reply_to 99");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);

    /* duplicate member ext id, reported when the members are complete */
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "same", TNONE, NULL, TNONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 2, "same", TNONE, NULL, TNONE, &d), &d);
    expect_einval(fora_snapshot_finish(s, &d), &d, "duplicate member ext id \"same\" (id 2)");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);

    /* duplicate post id */
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 1, "t", 1, NONE, 10, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 5, 1, NONE, 10, NONE, &d), &d);
    ASSERT_OK(fora_snapshot_add_post(s, 5, 1, NONE, 12, NONE, &d), &d);
    expect_einval(fora_snapshot_finish(s, &d), &d, "duplicate post id 5");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);

    /* board parent: unknown, and itself */
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", 3, NULL, &d), &d);
    expect_einval(fora_snapshot_finish(s, &d), &d, "board 1: unknown parent 3");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", 1, NULL, &d), &d);
    expect_einval(fora_snapshot_finish(s, &d), &d, "board 1: own parent 1");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);

    /* tables out of order, empty ext id */
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "m", TNONE, NULL, TNONE, &d), &d);
    expect_einval(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d,
                  "boards added after members");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    expect_einval(fora_snapshot_add_member(s, 1, "", TNONE, NULL, TNONE, &d), &d, "empty ext id");
    fora_snapshot_destroy(s);
    fora_diag_clear(&d);

    /* unknown event member */
    ASSERT_OK(fora_snapshot_create(1, "f", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_member(s, 1, "m", TNONE, NULL, TNONE, &d), &d);
    expect_einval(fora_snapshot_add_event(s, 2, "visit", 5, NONE, &d), &d, "unknown member 2");
    fora_snapshot_destroy(s);
}

/* xorshift64*: a fixed, portable sequence for the randomised tests */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/*
 * Many posts in random order with random, partly equal times and sparse ids:
 * the result must be sorted by (time, id), and every reply_to must still
 * point at the post with the same database id as before.
 */
static void test_random_posts(void)
{
    enum { N = 20000 };
    fora_diag_t d = FORA_DIAG_INIT;
    fora_snapshot_t *s = NULL;
    int64_t *id = malloc(N * sizeof(*id)), *t = malloc(N * sizeof(*t));
    int64_t *reply = malloc(N * sizeof(*reply));
    ASSERT(id != NULL && t != NULL && reply != NULL);
    for (int i = 0; i < N; i++) {
        id[i] = (int64_t)(rnd() % 1000000000000ull) * N + i; /* sparse and unique */
        t[i] = (int64_t)(rnd() % 3000) - 1000;               /* negative times too */
    }
    for (int i = 0; i < N; i++)
        reply[i] = (rnd() % 3 == 0) ? NONE : id[rnd() % N];
    for (int i = 0; i < N; i++)
        if (reply[i] == id[i]) reply[i] = NONE;

    ASSERT_OK(fora_snapshot_create(1, "rand", NULL, 0, &s, &d), &d);
    ASSERT_OK(fora_snapshot_add_board(s, 1, "b", NONE, NULL, &d), &d);
    ASSERT_OK(fora_snapshot_add_thread(s, 1, "t", 1, NONE, -1000, &d), &d);
    for (int i = 0; i < N; i++)
        ASSERT_OK(fora_snapshot_add_post(s, id[i], 1, NONE, t[i], reply[i], &d), &d);
    ASSERT_OK(fora_snapshot_finish(s, &d), &d);
    ASSERT(s->posts.by_id.keys != NULL); /* sparse ids: hash mode */

    ASSERT_EQ(s->posts.n, N);
    for (int j = 1; j < N; j++) {
        int64_t t0 = s->posts.created_at[j - 1], t1 = s->posts.created_at[j];
        ASSERT(t0 < t1 || (t0 == t1 && s->posts.id[j - 1] < s->posts.id[j]));
    }
    for (int i = 0; i < N; i++) {
        int32_t j = fora_snapshot_post_by_id(s, id[i]);
        ASSERT(j >= 0);
        ASSERT_EQ(s->posts.id[j], id[i]);
        ASSERT_EQ(s->posts.created_at[j], t[i]);
        if (reply[i] == NONE) {
            ASSERT_EQ(s->posts.reply_to[j], -1);
        } else {
            ASSERT(s->posts.reply_to[j] >= 0);
            ASSERT_EQ(s->posts.id[s->posts.reply_to[j]], reply[i]);
        }
    }
    ASSERT_EQ(s->threads.first_post[0], 0);
    fora_snapshot_destroy(s);
    free(id);
    free(t);
    free(reply);
}

static void test_idmap(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_idmap_t m;
    int32_t dup;

    /* dense: 5 ids in a range of 7 */
    const int64_t dense[] = {14, 10, 16, 11, 12};
    ASSERT_OK(fora_idmap_build(&m, dense, 5, &dup, &d), &d);
    ASSERT(m.dense != NULL);
    ASSERT_EQ(fora_idmap_get(&m, 14), 0);
    ASSERT_EQ(fora_idmap_get(&m, 12), 4);
    ASSERT_EQ(fora_idmap_get(&m, 13), -1);
    ASSERT_EQ(fora_idmap_get(&m, 9), -1);
    ASSERT_EQ(fora_idmap_get(&m, 17), -1);
    ASSERT_EQ(fora_idmap_get(&m, INT64_MAX), -1);
    ASSERT(!m.contiguous);
    const int32_t perm[] = {4, 3, 2, 1, 0};
    ASSERT_OK(fora_idmap_remap(&m, perm, &d), &d);
    ASSERT_EQ(fora_idmap_get(&m, 14), 4);
    ASSERT_EQ(fora_idmap_get(&m, 12), 0);
    fora_idmap_destroy(&m);

    /* contiguous: ids min, min+1, ... in index order need no memory */
    const int64_t run[] = {-2, -1, 0, 1};
    ASSERT_OK(fora_idmap_build(&m, run, 4, &dup, &d), &d);
    ASSERT(m.contiguous && m.dense == NULL && m.keys == NULL);
    ASSERT_EQ(fora_idmap_bytes(&m), 0);
    ASSERT_EQ(fora_idmap_get(&m, -2), 0);
    ASSERT_EQ(fora_idmap_get(&m, 1), 3);
    ASSERT_EQ(fora_idmap_get(&m, -3), -1);
    ASSERT_EQ(fora_idmap_get(&m, 2), -1);
    const int32_t rev[] = {3, 2, 1, 0};
    ASSERT_OK(fora_idmap_remap(&m, rev, &d), &d); /* becomes dense */
    ASSERT(!m.contiguous && m.dense != NULL);
    ASSERT_EQ(fora_idmap_get(&m, -2), 3);
    ASSERT_EQ(fora_idmap_get(&m, 0), 1);
    ASSERT_EQ(fora_idmap_get(&m, 2), -1);
    fora_idmap_destroy(&m);

    /* the same range out of order is dense, not contiguous */
    const int64_t shuffled[] = {1, 0, -1, -2};
    ASSERT_OK(fora_idmap_build(&m, shuffled, 4, &dup, &d), &d);
    ASSERT(!m.contiguous && m.dense != NULL);
    ASSERT_EQ(fora_idmap_get(&m, -2), 3);
    fora_idmap_destroy(&m);

    /* sparse: hash mode, extreme keys */
    const int64_t sparse[] = {INT64_MAX, -7, 1, 1000000007, INT64_MIN + 1, 0};
    ASSERT_OK(fora_idmap_build(&m, sparse, 6, &dup, &d), &d);
    ASSERT(m.dense == NULL && m.keys != NULL);
    for (int i = 0; i < 6; i++)
        ASSERT_EQ(fora_idmap_get(&m, sparse[i]), i);
    ASSERT_EQ(fora_idmap_get(&m, 2), -1);
    ASSERT_EQ(fora_idmap_get(&m, -8), -1);
    fora_idmap_destroy(&m);

    /* duplicates in both modes */
    const int64_t dup_dense[] = {3, 4, 3};
    ASSERT_EQ(fora_idmap_build(&m, dup_dense, 3, &dup, &d), FORA_EINVAL);
    ASSERT_EQ(dup, 2);
    ASSERT_STR_EQ(d.msg, "duplicate id 3");
    fora_diag_clear(&d);
    const int64_t dup_sparse[] = {3, 1LL << 40, 1LL << 50, 1LL << 40};
    ASSERT_EQ(fora_idmap_build(&m, dup_sparse, 4, &dup, &d), FORA_EINVAL);
    ASSERT_EQ(dup, 3);
    fora_diag_clear(&d);

    ASSERT_OK(fora_idmap_build(&m, NULL, 0, &dup, &d), &d);
    ASSERT_EQ(fora_idmap_get(&m, 0), -1);
    fora_idmap_destroy(&m);
}

static void test_strpool(void)
{
    fora_diag_t d = FORA_DIAG_INIT;
    fora_strpool_t p;
    memset(&p, 0, sizeof(p));
    char buf[32];
    int32_t k;
    /* interning 3000 strings twice: the second round finds them all */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3000; i++) {
            snprintf(buf, sizeof(buf), "s%d", i);
            ASSERT_OK(fora_strpool_intern(&p, buf, strlen(buf), &k, &d), &d);
            ASSERT_EQ(k, i);
        }
    }
    ASSERT_EQ(p.n, 3000);
    ASSERT_STR_EQ(fora_strpool_get(&p, 2999), "s2999");
    ASSERT_EQ(fora_strpool_find(&p, "s1234", 5), 1234);
    ASSERT_EQ(fora_strpool_find(&p, "s123", 4), 123);
    ASSERT_EQ(fora_strpool_find(&p, "s12345", 6), -1);
    ASSERT_OK(fora_strpool_intern(&p, "", 0, &k, &d), &d);
    ASSERT_EQ(k, 3000);
    ASSERT_STR_EQ(fora_strpool_get(&p, 3000), "");
    fora_strpool_destroy(&p);

    /* append without an index, then index: a duplicate is reported */
    ASSERT_OK(fora_strpool_append(&p, "a", 1, NULL, &d), &d);
    ASSERT_OK(fora_strpool_append(&p, "bc", 2, NULL, &d), &d);
    ASSERT_EQ(fora_strpool_find(&p, "a", 1), -1); /* not indexed yet */
    ASSERT_OK(fora_strpool_index(&p, NULL, &d), &d);
    ASSERT_EQ(fora_strpool_find(&p, "bc", 2), 1);
    ASSERT_OK(fora_strpool_append(&p, "a", 1, NULL, &d), &d);
    int32_t dup;
    ASSERT_EQ(fora_strpool_index(&p, &dup, &d), FORA_EINVAL);
    ASSERT_EQ(dup, 2);
    fora_strpool_destroy(&p);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_radix(void)
{
    enum { N = 50000 };
    uint64_t *k = malloc(N * sizeof(*k)), *ref = malloc(N * sizeof(*ref));
    uint64_t *kt = malloc(N * sizeof(*kt));
    uint32_t *v = malloc(N * sizeof(*v)), *vt = malloc(N * sizeof(*vt));
    ASSERT(k && ref && kt && v && vt);

    /* full 64-bit keys */
    for (int i = 0; i < N; i++)
        k[i] = ref[i] = rnd();
    fora_radix_sort_u64(k, NULL, N, kt, NULL);
    qsort(ref, N, sizeof(*ref), cmp_u64);
    ASSERT(memcmp(k, ref, N * sizeof(*k)) == 0);

    /* few distinct keys in high bits: stable, vals follow keys */
    for (int i = 0; i < N; i++) {
        k[i] = (rnd() % 7) << 40;
        v[i] = (uint32_t)i;
    }
    fora_radix_sort_u64(k, v, N, kt, vt);
    for (int i = 1; i < N; i++) {
        ASSERT(k[i - 1] <= k[i]);
        if (k[i - 1] == k[i]) ASSERT(v[i - 1] < v[i]);
    }

    /* signed keys keep their order */
    const int64_t sk[] = {5, -3, INT64_MIN, 0, INT64_MAX, -1};
    for (int i = 0; i < 6; i++) {
        k[i] = fora_radix_key_i64(sk[i]);
        v[i] = (uint32_t)i;
    }
    fora_radix_sort_u64(k, v, 6, kt, vt);
    const uint32_t want[] = {2, 1, 5, 3, 0, 4};
    for (int i = 0; i < 6; i++)
        ASSERT_EQ(v[i], want[i]);

    free(k);
    free(ref);
    free(kt);
    free(v);
    free(vt);
}

int main(void)
{
    FORA_RUN(test_forum_and_tables);
    FORA_RUN(test_post_order_and_replies);
    FORA_RUN(test_events);
    FORA_RUN(test_lookups);
    FORA_RUN(test_windows);
    FORA_RUN(test_empty);
    FORA_RUN(test_errors);
    FORA_RUN(test_random_posts);
    FORA_RUN(test_idmap);
    FORA_RUN(test_strpool);
    FORA_RUN(test_radix);
    return 0;
}
