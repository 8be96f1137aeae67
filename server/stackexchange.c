/*
 * server/stackexchange.c - Stack Exchange data dump -> fora CSV bundle.
 *
 * Four streaming passes with expat, one per input file, in the order the
 * references need: Badges.xml (the moderator set), Users.xml (members.csv,
 * events.csv and the set of known user ids), Posts.xml (posts.csv, the
 * threads and the post -> thread map), Comments.xml (the rest of posts.csv).
 * threads.csv and boards.csv are written last, from the tables.
 *
 * All tables hold ints only and are sorted arrays searched with bsearch():
 * dumps come in Id order, so appending keeps them sorted and nothing needs
 * sorting; a dump out of order is detected as it is appended and sorted once
 * before the first lookup that needs it.  The only strings kept are the board
 * (tag) names.
 *
 * The mapping is documented in include/fora/stackexchange.h and
 * server/sample/README.md; keep the two in step.
 */
#include "fora/stackexchange.h"

#include <assert.h>
#include <errno.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fora/csv.h"
#include "fora/progress.h"
#include "fora/timeparse.h"

#define CHUNK_SIZE (256 * 1024) /* bytes handed to expat at a time */
#define NO_ID INT32_MIN         /* "no member": missing or unknown user */
#define MAX_BOARD_ID 128        /* identifiers are at most 128 bytes (csv-bundle.md) */
#define PROGRESS_EVERY 1024     /* rows between progress updates */

/* A kept post (question or answer) and the index of its thread. */
typedef struct post_ent {
    int32_t id;
    uint32_t thread;
} post_ent_t;

/* A thread (= kept question); its created_at is the minimum over its posts. */
typedef struct thread_ent {
    int32_t qid;     /* question Id = thread_id */
    int32_t starter; /* known user Id, or NO_ID */
    uint32_t board;  /* index into the board table */
    int64_t min_us;  /* earliest created_at of its posts, microseconds since 1970 */
} thread_ent_t;

/*
 * An answer seen before its question (merged-in answers predate their new
 * question, and dumps are in Id = creation order).  Rare, so it keeps its
 * timestamp as text to write it out as it appeared.
 */
typedef struct pending_ent {
    int32_t id;
    int32_t parent;
    int32_t author; /* known user Id, or NO_ID */
    int64_t us;
    char created[32];
} pending_ent_t;

/* A growable array of fixed-size elements that knows whether it is sorted by its leading int32. */
typedef struct vec {
    void *data;
    size_t len, cap;
    size_t elem;
    bool unsorted;     /* an element was appended below its predecessor */
    size_t sorted_len; /* while unsorted: the length of the sorted prefix */
} vec_t;

/* Interned board names with an open-addressing hash (boards are few). */
typedef struct board_tab {
    char **names;   /* in first-use order */
    bool *untagged; /* category `untagged` rather than `tag` */
    size_t len, cap;
    uint32_t *slots; /* index+1 into names, 0 = empty; size is a power of two */
    size_t nslots;
} board_tab_t;

typedef struct conv conv_t;
typedef void (*row_fn)(conv_t *c, const XML_Char **atts);

struct conv {
    fora_diag_t *diag;
    fora_err_t err; /* first error raised inside an expat callback */
    /* the file being parsed */
    XML_Parser xp;
    const char *path;
    const char *root; /* expected root element, e.g. "posts" */
    int depth;
    row_fn row;
    int64_t rows;
    fora_progress_t prog;
    bool quiet;
    /* tables */
    vec_t mods;    /* int32 user ids holding Constable/Sheriff */
    vec_t users;   /* int32 user ids of Users.xml */
    vec_t posts;   /* post_ent_t of kept questions and answers */
    vec_t threads; /* thread_ent_t, in question order */
    vec_t pending; /* pending_ent_t */
    board_tab_t boards;
    /* outputs */
    fora_csv_writer_t *w_members, *w_events, *w_posts;
    fora_se_stats_t st;
};

/* ---------------------------------------------------------------- tables */

static fora_err_t vec_push(conv_t *c, vec_t *v, const void *x)
{
    if (v->len == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 1024;
        void *p = ncap > SIZE_MAX / v->elem ? NULL : realloc(v->data, ncap * v->elem);
        if (p == NULL)
            return fora_diag_set(c->diag, FORA_ENOMEM, "out of memory for %zu table entries", ncap);
        v->data = p;
        v->cap = ncap;
    }
    char *dst = (char *)v->data + v->len * v->elem;
    if (v->len > 0) {
        int32_t prev, cur;
        memcpy(&prev, dst - v->elem, sizeof(prev));
        memcpy(&cur, x, sizeof(cur));
        if (cur < prev && !v->unsorted) {
            v->unsorted = true;
            v->sorted_len = v->len;
        }
    }
    memcpy(dst, x, v->elem);
    v->len++;
    return FORA_OK;
}

static void vec_free(vec_t *v)
{
    free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}

/* Orders elements by their leading int32 (every table element starts with its key). */
static int cmp_key(const void *a, const void *b)
{
    int32_t x, y;
    memcpy(&x, a, sizeof(x));
    memcpy(&y, b, sizeof(y));
    return (x > y) - (x < y);
}

/*
 * Sorts v.  Typically only a short tail is out of order (answers resolved
 * after their question), so the tail is sorted on its own and merged into the
 * sorted prefix from the back: O(n + k log k) for a tail of k.
 */
static fora_err_t vec_sort(conv_t *c, vec_t *v)
{
    if (!v->unsorted) return FORA_OK;
    size_t e = v->elem, head = v->sorted_len, k = v->len - head;
    char *base = v->data;
    qsort(base + head * e, k, e, cmp_key);
    char *tail = malloc(k * e);
    if (tail == NULL) return fora_diag_set(c->diag, FORA_ENOMEM, "out of memory for sorting");
    memcpy(tail, base + head * e, k * e);
    size_t i = head, j = k, dst = v->len; /* merge backwards: prefix [0,i), tail [0,j) */
    while (j > 0) {
        if (i > 0 && cmp_key(base + (i - 1) * e, tail + (j - 1) * e) > 0) {
            memcpy(base + --dst * e, base + --i * e, e);
        } else {
            memcpy(base + --dst * e, tail + --j * e, e);
        }
    }
    free(tail);
    v->unsorted = false;
    return FORA_OK;
}

/* The element whose key is `key`, or NULL; v must be sorted. */
static void *vec_find(const vec_t *v, int32_t key)
{
    assert(!v->unsorted);
    return v->len ? bsearch(&key, v->data, v->len, v->elem, cmp_key) : NULL;
}

/* The key of element i. */
static int32_t vec_key(const vec_t *v, size_t i)
{
    int32_t k;
    memcpy(&k, (const char *)v->data + i * v->elem, sizeof(k));
    return k;
}

/* The first key that occurs twice in sorted v, in *dup; false if none. */
static bool vec_find_dup(const vec_t *v, int32_t *dup)
{
    for (size_t i = 1; i < v->len; i++) {
        if (vec_key(v, i) == vec_key(v, i - 1)) {
            *dup = vec_key(v, i);
            return true;
        }
    }
    return false;
}

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static fora_err_t boards_rehash(conv_t *c, board_tab_t *t, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL) return fora_diag_set(c->diag, FORA_ENOMEM, "out of memory for boards");
    for (size_t i = 0; i < t->len; i++) {
        size_t j = hash_str(t->names[i], strlen(t->names[i])) & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return FORA_OK;
}

/* The index of board `name` (n bytes, not NUL-terminated), added if new. */
static fora_err_t boards_intern(conv_t *c, const char *name, size_t n, bool untagged, uint32_t *out)
{
    board_tab_t *t = &c->boards;
    fora_err_t err;

    if (2 * (t->len + 1) > t->nslots) {
        err = boards_rehash(c, t, t->nslots ? 2 * t->nslots : 256);
        if (err) return err;
    }
    size_t j = hash_str(name, n) & (t->nslots - 1);
    while (t->slots[j]) {
        uint32_t i = t->slots[j] - 1;
        if (strncmp(t->names[i], name, n) == 0 && t->names[i][n] == '\0') {
            *out = i;
            return FORA_OK;
        }
        j = (j + 1) & (t->nslots - 1);
    }
    if (t->len == t->cap) {
        size_t ncap = t->cap ? 2 * t->cap : 64;
        char **names = realloc(t->names, ncap * sizeof(*names));
        if (names == NULL) return fora_diag_set(c->diag, FORA_ENOMEM, "out of memory for boards");
        t->names = names;
        bool *u = realloc(t->untagged, ncap * sizeof(*u));
        if (u == NULL) return fora_diag_set(c->diag, FORA_ENOMEM, "out of memory for boards");
        t->untagged = u;
        t->cap = ncap;
    }
    char *copy = malloc(n + 1);
    if (copy == NULL) return fora_diag_set(c->diag, FORA_ENOMEM, "out of memory for boards");
    memcpy(copy, name, n);
    copy[n] = '\0';
    t->names[t->len] = copy;
    t->untagged[t->len] = untagged;
    t->slots[j] = (uint32_t)(t->len + 1);
    *out = (uint32_t)t->len++;
    return FORA_OK;
}

static void boards_free(board_tab_t *t)
{
    for (size_t i = 0; i < t->len; i++)
        free(t->names[i]);
    free(t->names);
    free(t->untagged);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------ values in rows */

/* Parses a decimal int32 (optional '-'); false if s is not exactly that. */
static bool parse_i32(const char *s, int32_t *out)
{
    int64_t v = 0;
    bool neg = *s == '-';
    if (neg) s++;
    if (*s == '\0') return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + (*s - '0');
        if (v > (int64_t)INT32_MAX + 1) return false;
    }
    if (neg) v = -v;
    if (v < INT32_MIN || v > INT32_MAX) return false;
    *out = (int32_t)v;
    return true;
}

/*
 * Parses a dump timestamp ("YYYY-MM-DDTHH:MM:SS.fff", UTC) into microseconds
 * since 1970, with the same strict parser the CSV importer uses.
 */
static bool parse_ts(const char *s, int64_t *us)
{
    return fora_time_parse(s, strlen(s), us);
}

/* Writes us back in the dump's form: three fractional digits, six if needed. */
static void format_ts(int64_t us, char *buf, size_t size)
{
    fora_civil_time_t t;
    fora_time_split(us, &t);
    int frac = (int)t.usec;
    int n = snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)t.year, t.month,
                     t.day, t.hour, t.minute, t.second);
    if (n < 0 || (size_t)n >= size) return;
    if (frac % 1000 == 0)
        snprintf(buf + n, size - (size_t)n, ".%03d", (int)(frac / 1000));
    else
        snprintf(buf + n, size - (size_t)n, ".%06d", (int)frac);
}

/*
 * Picks the values of the named attributes out of expat's name/value list;
 * vals[i] is NULL (or "" is kept as NULL) when names[i] is absent.  Only
 * these attributes are looked at: text attributes (Body, Title, Text,
 * DisplayName, AboutMe, Location, WebsiteUrl) are decoded by expat into its
 * own buffer and never copied from there.
 */
static void get_attrs(const XML_Char **atts, const char *const *names, const char **vals, int n)
{
    for (int i = 0; i < n; i++)
        vals[i] = NULL;
    for (; atts[0] != NULL; atts += 2) {
        for (int i = 0; i < n; i++) {
            if (strcmp(atts[0], names[i]) == 0) {
                if (atts[1][0] != '\0') vals[i] = atts[1];
                break;
            }
        }
    }
}

/* ------------------------------------------------------ expat plumbing */

static unsigned long long cur_line(const conv_t *c)
{
    return (unsigned long long)XML_GetCurrentLineNumber(c->xp);
}

/* Records an error already in the diag (or code alone) and stops the parser. */
static void stop(conv_t *c, fora_err_t code)
{
    if (c->err == FORA_OK) c->err = code;
    XML_StopParser(c->xp, XML_FALSE);
}

/* Records "path:line: message" and stops the parser. */
static void fail(conv_t *c, fora_err_t code, const char *fmt, ...) FORA_PRINTF(3, 4);
static void fail(conv_t *c, fora_err_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fora_diag_set(c->diag, code, "%s:%llu: %s", c->path, cur_line(c), msg);
    stop(c, code);
}

/* Parses a required id attribute; on failure records the error and returns false. */
static bool need_id(conv_t *c, const char *name, const char *val, int32_t *out)
{
    if (val == NULL) {
        fail(c, FORA_EPARSE, "row has no \"%s\"", name);
        return false;
    }
    if (!parse_i32(val, out)) {
        fail(c, FORA_EPARSE, "bad %s \"%.40s\" (expected a 32-bit integer)", name, val);
        return false;
    }
    return true;
}

/* Parses an optional id attribute into *out (NO_ID when absent). */
static bool opt_id(conv_t *c, const char *name, const char *val, int32_t *out)
{
    *out = NO_ID;
    return val == NULL || need_id(c, name, val, out);
}

static bool need_ts(conv_t *c, const char *name, const char *val, int64_t *us)
{
    if (val == NULL) {
        fail(c, FORA_EPARSE, "row has no \"%s\"", name);
        return false;
    }
    if (!parse_ts(val, us)) {
        fail(c, FORA_EPARSE, "bad %s \"%.40s\" (expected YYYY-MM-DDTHH:MM:SS.fff)", name, val);
        return false;
    }
    return true;
}

/* A user id as written in the bundle: the id if Users.xml has it, else NO_ID. */
static int32_t known_user(const conv_t *c, int32_t id)
{
    return id != NO_ID && vec_find(&c->users, id) != NULL ? id : NO_ID;
}

static void fmt_id(char *buf, size_t size, int32_t id)
{
    if (id == NO_ID)
        buf[0] = '\0';
    else
        snprintf(buf, size, "%ld", (long)id);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    conv_t *c = ud;
    if (c->err) return;
    c->depth++;
    if (c->depth == 1) {
        if (strcmp(name, c->root) != 0)
            fail(c, FORA_EPARSE, "root element is <%.40s>, expected <%s>", name, c->root);
        return;
    }
    if (c->depth != 2 || strcmp(name, "row") != 0) return;
    c->row(c, atts);
    if (++c->rows % PROGRESS_EVERY == 0) fora_progress_update(&c->prog, c->rows);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    conv_t *c = ud;
    (void)name;
    c->depth--;
}

/* Streams `path` through expat, calling `row` for every <row> under <root>. */
static fora_err_t parse_file(conv_t *c, const char *path, const char *root, const char *label,
                             row_fn row)
{
    fora_err_t err = FORA_OK;
    gzFile gz = NULL;

    c->xp = XML_ParserCreate(NULL);
    if (c->xp == NULL) {
        err = fora_diag_set(c->diag, FORA_ENOMEM, "could not create an XML parser");
        goto out;
    }
    XML_SetUserData(c->xp, c);
    XML_SetElementHandler(c->xp, on_start, on_end);
    c->path = path;
    c->root = root;
    c->depth = 0;
    c->row = row;
    c->rows = 0;
    c->err = FORA_OK;

    gz = gzopen(path, "rb");
    if (gz == NULL) {
        err = fora_diag_set(c->diag, errno == ENOENT ? FORA_ENOTFOUND : FORA_EIO,
                            "could not open \"%s\": %s", path,
                            errno ? strerror(errno) : "out of memory");
        goto out;
    }
    gzbuffer(gz, CHUNK_SIZE);
    fora_progress_begin(&c->prog, c->quiet, label, -1);
    for (;;) {
        void *buf = XML_GetBuffer(c->xp, CHUNK_SIZE);
        if (buf == NULL) {
            err = fora_diag_set(c->diag, FORA_ENOMEM, "%s: out of memory in the XML parser", path);
            goto out;
        }
        int n = gzread(gz, buf, CHUNK_SIZE);
        if (n < 0) {
            int zerr;
            const char *zmsg = gzerror(gz, &zerr);
            err = fora_diag_set(c->diag, FORA_EIO, "could not read \"%s\": %s", path,
                                zerr == Z_ERRNO ? strerror(errno) : zmsg);
            goto out;
        }
        if (XML_ParseBuffer(c->xp, n, n == 0) == XML_STATUS_ERROR) {
            if (c->err) {
                err = c->err; /* raised by a row handler; detail already in diag */
            } else {
                err = fora_diag_set(c->diag, FORA_EPARSE, "%s:%llu:%llu: malformed XML: %s", path,
                                    (unsigned long long)XML_GetCurrentLineNumber(c->xp),
                                    (unsigned long long)XML_GetCurrentColumnNumber(c->xp),
                                    XML_ErrorString(XML_GetErrorCode(c->xp)));
            }
            goto out;
        }
        if (n == 0) break;
    }
    fora_progress_update(&c->prog, c->rows);
    fora_progress_end(&c->prog);
out:
    if (gz != NULL) gzclose(gz);
    if (c->xp != NULL) XML_ParserFree(c->xp);
    c->xp = NULL;
    c->path = NULL;
    return err;
}

/* ------------------------------------------------------------ row handlers */

static void badge_row(conv_t *c, const XML_Char **atts)
{
    static const char *const names[] = {"UserId", "Name"};
    const char *v[2];
    int32_t uid;
    get_attrs(atts, names, v, 2);
    if (v[1] == NULL || (strcmp(v[1], "Constable") != 0 && strcmp(v[1], "Sheriff") != 0)) return;
    if (!need_id(c, "UserId", v[0], &uid)) return;
    fora_err_t err = vec_push(c, &c->mods, &uid);
    if (err) stop(c, err);
}

/* The status label of a user that is neither the Community bot nor a moderator. */
static const char *rep_band(int64_t rep)
{
    if (rep >= 10000) return "rep_10000";
    if (rep >= 3000) return "rep_3000";
    if (rep >= 1000) return "rep_1000";
    if (rep >= 200) return "rep_200";
    if (rep >= 15) return "rep_15";
    if (rep >= 1) return "rep_1";
    return NULL;
}

static void user_row(conv_t *c, const XML_Char **atts)
{
    static const char *const names[] = {"Id", "CreationDate", "Reputation", "LastAccessDate"};
    const char *v[4];
    int32_t id, rep = 0;
    int64_t us, last_us;
    char idbuf[16];
    fora_err_t err;

    get_attrs(atts, names, v, 4);
    if (!need_id(c, "Id", v[0], &id) || !need_ts(c, "CreationDate", v[1], &us)) return;
    if (v[2] != NULL && !parse_i32(v[2], &rep)) {
        fail(c, FORA_EPARSE, "bad Reputation \"%.40s\"", v[2]);
        return;
    }
    if (v[3] != NULL && !need_ts(c, "LastAccessDate", v[3], &last_us)) return;
    if (c->users.len > 0 && vec_key(&c->users, c->users.len - 1) == id) {
        fail(c, FORA_EPARSE, "duplicate Id \"%ld\"", (long)id);
        return;
    }
    if ((err = vec_push(c, &c->users, &id)) != FORA_OK) {
        stop(c, err);
        return;
    }

    const char *status;
    if (id == -1)
        status = "system";
    else if (vec_find(&c->mods, id) != NULL)
        status = "moderator";
    else
        status = v[2] != NULL ? rep_band(rep) : NULL;
    fmt_id(idbuf, sizeof(idbuf), id);
    const char *mrow[] = {idbuf, NULL, v[1], status, NULL};
    if ((err = fora_csv_write(c->w_members, 5, mrow, c->diag)) != FORA_OK) {
        stop(c, err);
        return;
    }
    c->st.users++;
    if (v[3] != NULL) {
        const char *erow[] = {idbuf, "visit", v[3], NULL};
        if ((err = fora_csv_write(c->w_events, 4, erow, c->diag)) != FORA_OK) {
            stop(c, err);
            return;
        }
        c->st.visits++;
    }
}

static thread_ent_t *thread_at(conv_t *c, uint32_t i)
{
    return (thread_ent_t *)c->threads.data + i;
}

/* Writes a post row and folds its time into its thread. */
static fora_err_t write_post(conv_t *c, const char *post_id, uint32_t thread, int32_t author,
                             const char *created, int64_t us, const char *reply_to)
{
    thread_ent_t *t = thread_at(c, thread);
    char tbuf[16], abuf[16];
    fmt_id(tbuf, sizeof(tbuf), t->qid);
    fmt_id(abuf, sizeof(abuf), author);
    if (us < t->min_us) t->min_us = us;
    const char *row[] = {post_id, tbuf, abuf, created, reply_to};
    return fora_csv_write(c->w_posts, 5, row, c->diag);
}

/* Keeps answer `id` in thread `ti` (the thread of its ParentId). */
static fora_err_t keep_answer(conv_t *c, int32_t id, uint32_t ti, int32_t author,
                              const char *created, int64_t us)
{
    char idbuf[16], pbuf[16];
    post_ent_t pe = {id, ti};
    fora_err_t err;
    fmt_id(idbuf, sizeof(idbuf), id);
    fmt_id(pbuf, sizeof(pbuf), thread_at(c, ti)->qid);
    if ((err = vec_push(c, &c->posts, &pe)) != FORA_OK) return err;
    if ((err = write_post(c, idbuf, ti, author, created, us, pbuf)) != FORA_OK) return err;
    c->st.answers++;
    return FORA_OK;
}

/* The board of a question: its first tag, from "<a><b>" or (newer dumps) "|a|b|". */
static fora_err_t question_board(conv_t *c, const char *tags, uint32_t *board)
{
    const char *start = tags, *end;
    if (tags != NULL && (tags[0] == '<' || tags[0] == '|')) {
        start = tags + 1;
        end = strchr(start, tags[0] == '<' ? '>' : '|');
        if (end == NULL) end = start + strlen(start);
    } else {
        end = tags != NULL ? tags + strlen(tags) : NULL;
    }
    if (tags == NULL || end == start) return boards_intern(c, "untagged", 8, true, board);
    if (end - start > MAX_BOARD_ID) {
        fail(c, FORA_EPARSE, "tag \"%.40s...\" longer than %d bytes", start, MAX_BOARD_ID);
        return FORA_EPARSE;
    }
    return boards_intern(c, start, (size_t)(end - start), false, board);
}

static void post_row(conv_t *c, const XML_Char **atts)
{
    static const char *const names[] = {"Id",       "PostTypeId",  "CreationDate",
                                        "ParentId", "OwnerUserId", "Tags"};
    const char *v[6];
    int32_t id, type, parent, owner;
    int64_t us;
    fora_err_t err = FORA_OK;

    get_attrs(atts, names, v, 6);
    if (!need_id(c, "Id", v[0], &id) || !need_id(c, "PostTypeId", v[1], &type) ||
        !need_ts(c, "CreationDate", v[2], &us) || !opt_id(c, "ParentId", v[3], &parent) ||
        !opt_id(c, "OwnerUserId", v[4], &owner))
        return;
    owner = known_user(c, owner);

    if (type == 1) {
        thread_ent_t t = {id, owner, 0, us};
        post_ent_t pe = {id, (uint32_t)c->threads.len};
        if (c->threads.len >= UINT32_MAX) {
            fail(c, FORA_ETOOLARGE, "more than %lu questions", (unsigned long)UINT32_MAX);
            return;
        }
        if (c->posts.len > 0 && vec_key(&c->posts, c->posts.len - 1) == id) {
            fail(c, FORA_EPARSE, "duplicate Id \"%ld\"", (long)id);
            return;
        }
        if ((err = question_board(c, v[5], &t.board)) != FORA_OK) goto out;
        if ((err = vec_push(c, &c->threads, &t)) != FORA_OK) goto out;
        if ((err = vec_push(c, &c->posts, &pe)) != FORA_OK) goto out;
        char idbuf[16];
        fmt_id(idbuf, sizeof(idbuf), id); /* canonical, as every reference to it is written */
        if ((err = write_post(c, idbuf, pe.thread, owner, v[2], us, NULL)) != FORA_OK) goto out;
        c->st.questions++;
    } else if (type == 2 && parent != NO_ID) {
        const thread_ent_t *t = c->threads.unsorted ? NULL : vec_find(&c->threads, parent);
        if (t != NULL) {
            if (c->posts.len > 0 && vec_key(&c->posts, c->posts.len - 1) == id) {
                fail(c, FORA_EPARSE, "duplicate Id \"%ld\"", (long)id);
                return;
            }
            err = keep_answer(c, id, (uint32_t)(t - thread_at(c, 0)), owner, v[2], us);
        } else {
            /* Its question may come later (or the threads are out of order): decide at the end. */
            pending_ent_t p = {id, parent, owner, us, {0}};
            snprintf(p.created, sizeof(p.created), "%s", v[2]);
            err = vec_push(c, &c->pending, &p);
        }
    } else {
        c->st.skipped_posts++;
    }
out:
    if (err) stop(c, err);
}

/* Resolves the answers that came before their question, once all questions are known. */
static fora_err_t resolve_pending(conv_t *c)
{
    fora_err_t err = FORA_OK;
    vec_t byq = {NULL, 0, 0, sizeof(post_ent_t), false, 0}; /* (qid, thread index) */
    const vec_t *index = &c->threads; /* anything keyed by qid whose payload finds the thread */

    if (c->pending.len == 0) return FORA_OK;
    if (c->threads.unsorted) {
        /* Threads must stay in question order, so sort an index of them instead. */
        for (size_t i = 0; i < c->threads.len; i++) {
            post_ent_t e = {thread_at(c, (uint32_t)i)->qid, (uint32_t)i};
            if ((err = vec_push(c, &byq, &e)) != FORA_OK) goto out;
        }
        if ((err = vec_sort(c, &byq)) != FORA_OK) goto out;
        index = &byq;
    }
    for (size_t i = 0; i < c->pending.len; i++) {
        const pending_ent_t *p = (const pending_ent_t *)c->pending.data + i;
        const void *hit = vec_find(index, p->parent);
        if (hit == NULL) {
            c->st.skipped_posts++;
            continue;
        }
        uint32_t ti = index == &byq ? ((const post_ent_t *)hit)->thread
                                    : (uint32_t)((const thread_ent_t *)hit - thread_at(c, 0));
        if ((err = keep_answer(c, p->id, ti, p->author, p->created, p->us)) != FORA_OK) goto out;
    }
out:
    vec_free(&byq);
    return err;
}

static void comment_row(conv_t *c, const XML_Char **atts)
{
    static const char *const names[] = {"Id", "PostId", "CreationDate", "UserId"};
    const char *v[4];
    int32_t id, post, user;
    int64_t us;
    char cid[16], pbuf[16];

    get_attrs(atts, names, v, 4);
    if (!need_id(c, "Id", v[0], &id) || !need_ts(c, "CreationDate", v[2], &us) ||
        !opt_id(c, "PostId", v[1], &post) || !opt_id(c, "UserId", v[3], &user))
        return;
    const post_ent_t *pe = post == NO_ID ? NULL : vec_find(&c->posts, post);
    if (pe == NULL) {
        c->st.skipped_comments++;
        return;
    }
    snprintf(cid, sizeof(cid), "c%ld", (long)id);
    fmt_id(pbuf, sizeof(pbuf), post);
    fora_err_t err = write_post(c, cid, pe->thread, known_user(c, user), v[2], us, pbuf);
    if (err) {
        stop(c, err);
        return;
    }
    c->st.comments++;
}

/* ---------------------------------------------------------------- driver */

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = fora_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* dump_dir/name, or dump_dir/name.gz if only that exists; NULL if neither does. */
static char *find_input(const char *dir, const char *name)
{
    struct stat sb;
    char *p = join_path(dir, name);
    if (stat(p, &sb) == 0) return p;
    size_t n = strlen(p) + 4;
    char *gz = fora_xmalloc(n);
    snprintf(gz, n, "%s.gz", p);
    free(p);
    if (stat(gz, &sb) == 0) return gz;
    free(gz);
    return NULL;
}

/* mkdir -p */
static fora_err_t make_dirs(const char *dir, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    char *p = fora_xstrdup(dir);
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char save = p[i];
        p[i] = '\0';
        struct stat sb;
        if (mkdir(p, 0777) != 0 && !(errno == EEXIST && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))) {
            err = fora_diag_set(diag, FORA_EIO, "could not create folder \"%s\": %s", p,
                                errno == EEXIST ? "not a folder" : strerror(errno));
            break;
        }
        p[i] = save;
    }
    free(p);
    return err;
}

static fora_err_t create_out(const char *out_dir, const char *base, bool gz, fora_csv_writer_t **w,
                             fora_diag_t *diag)
{
    char name[64];
    snprintf(name, sizeof(name), "%s%s", base, gz ? ".csv.gz" : ".csv");
    char *path = join_path(out_dir, name);
    fora_err_t err = fora_csv_create(path, w, diag);
    free(path);
    return err;
}

static fora_err_t write_threads(conv_t *c, const char *out_dir, bool gz)
{
    static const char *const cols[] = {"thread_id", "board_id", "starter_id", "created_at"};
    fora_csv_writer_t *w = NULL;
    fora_err_t err;
    if ((err = create_out(out_dir, "threads", gz, &w, c->diag)) != FORA_OK) return err;
    if ((err = fora_csv_write(w, 4, cols, c->diag)) != FORA_OK) goto out;
    for (size_t i = 0; i < c->threads.len; i++) {
        const thread_ent_t *t = thread_at(c, (uint32_t)i);
        char tid[16], sid[16], ts[40];
        fmt_id(tid, sizeof(tid), t->qid);
        fmt_id(sid, sizeof(sid), t->starter);
        format_ts(t->min_us, ts, sizeof(ts));
        const char *row[] = {tid, c->boards.names[t->board], sid, ts};
        if ((err = fora_csv_write(w, 4, row, c->diag)) != FORA_OK) goto out;
    }
out:;
    fora_err_t ferr = fora_csv_finish(w, c->diag);
    return err ? err : ferr;
}

static fora_err_t write_boards(conv_t *c, const char *out_dir, bool gz)
{
    static const char *const cols[] = {"board_id", "parent_id", "category"};
    fora_csv_writer_t *w = NULL;
    fora_err_t err;
    if ((err = create_out(out_dir, "boards", gz, &w, c->diag)) != FORA_OK) return err;
    if ((err = fora_csv_write(w, 3, cols, c->diag)) != FORA_OK) goto out;
    for (size_t i = 0; i < c->boards.len; i++) {
        const char *row[] = {c->boards.names[i], NULL, c->boards.untagged[i] ? "untagged" : "tag"};
        if ((err = fora_csv_write(w, 3, row, c->diag)) != FORA_OK) goto out;
        c->st.boards++;
    }
out:;
    fora_err_t ferr = fora_csv_finish(w, c->diag);
    return err ? err : ferr;
}

static fora_err_t write_forum(const char *out_dir, bool gz, const char *name, const char *source,
                              fora_diag_t *diag)
{
    static const char *const cols[] = {"name", "source", "timezone"};
    fora_csv_writer_t *w = NULL;
    fora_err_t err;
    if ((err = create_out(out_dir, "forum", gz, &w, diag)) != FORA_OK) return err;
    const char *row[] = {name, source, "UTC"};
    if ((err = fora_csv_write(w, 3, cols, diag)) == FORA_OK) err = fora_csv_write(w, 3, row, diag);
    fora_err_t ferr = fora_csv_finish(w, diag);
    return err ? err : ferr;
}

/* Sorts a table appended out of order and rejects a repeated id. */
static fora_err_t sort_unique(conv_t *c, vec_t *v, const char *path)
{
    int32_t dup;
    fora_err_t err;
    if (!v->unsorted) return FORA_OK; /* in order: duplicates were caught on append */
    if ((err = vec_sort(c, v)) != FORA_OK) return err;
    if (vec_find_dup(v, &dup))
        return fora_diag_set(c->diag, FORA_EPARSE, "%s: duplicate Id \"%ld\"", path, (long)dup);
    return FORA_OK;
}

fora_err_t fora_se_convert(const char *dump_dir, const char *out_dir, const fora_se_opts_t *opts,
                           fora_se_stats_t *stats, fora_diag_t *diag)
{
    static const fora_se_opts_t defaults = {NULL, NULL, false, false};
    static const char *const member_cols[] = {"member_id", "pseudonym", "registered_at", "status",
                                              "banned_at"};
    static const char *const event_cols[] = {"member_id", "kind", "occurred_at", "board_id"};
    static const char *const post_cols[] = {"post_id", "thread_id", "author_id", "created_at",
                                            "reply_to"};
    fora_err_t err = FORA_OK;
    conv_t c;
    char *in_users = NULL, *in_posts = NULL, *in_comments = NULL, *in_badges = NULL;

    memset(&c, 0, sizeof(c));
    c.diag = diag;
    c.mods.elem = sizeof(int32_t);
    c.users.elem = sizeof(int32_t);
    c.posts.elem = sizeof(post_ent_t);
    c.threads.elem = sizeof(thread_ent_t);
    c.pending.elem = sizeof(pending_ent_t);
    if (opts == NULL) opts = &defaults;
    c.quiet = opts->quiet;
    if (stats != NULL) memset(stats, 0, sizeof(*stats));

    /* Every required input is checked before anything is written. */
    in_users = find_input(dump_dir, "Users.xml");
    in_posts = find_input(dump_dir, "Posts.xml");
    in_comments = find_input(dump_dir, "Comments.xml");
    in_badges = find_input(dump_dir, "Badges.xml");
    const char *missing = !in_users      ? "Users.xml"
                          : !in_posts    ? "Posts.xml"
                          : !in_comments ? "Comments.xml"
                                         : NULL;
    if (missing != NULL) {
        err = fora_diag_set(diag, FORA_ENOTFOUND, "no \"%s\" (or \"%s.gz\") in \"%s\"", missing,
                            missing, dump_dir);
        goto out;
    }
    if ((err = make_dirs(out_dir, diag)) != FORA_OK) goto out;
    err = write_forum(out_dir, opts->gzip, opts->forum_name ? opts->forum_name : "stackexchange",
                      opts->source ? opts->source : "stackexchange data dump", diag);
    if (err) goto out;

    /* Moderators first: Users.xml needs them for the status column. */
    if (in_badges != NULL) {
        if ((err = parse_file(&c, in_badges, "badges", "Badges.xml", badge_row)) != FORA_OK)
            goto out;
        if ((err = vec_sort(&c, &c.mods)) != FORA_OK) goto out;
    }

    if ((err = create_out(out_dir, "members", opts->gzip, &c.w_members, diag)) != FORA_OK ||
        (err = create_out(out_dir, "events", opts->gzip, &c.w_events, diag)) != FORA_OK ||
        (err = fora_csv_write(c.w_members, 5, member_cols, diag)) != FORA_OK ||
        (err = fora_csv_write(c.w_events, 4, event_cols, diag)) != FORA_OK)
        goto out;
    if ((err = parse_file(&c, in_users, "users", "Users.xml", user_row)) != FORA_OK) goto out;
    if ((err = sort_unique(&c, &c.users, in_users)) != FORA_OK) goto out;
    err = fora_csv_finish(c.w_members, diag);
    c.w_members = NULL;
    if (err) goto out;
    err = fora_csv_finish(c.w_events, diag);
    c.w_events = NULL;
    if (err) goto out;

    if ((err = create_out(out_dir, "posts", opts->gzip, &c.w_posts, diag)) != FORA_OK ||
        (err = fora_csv_write(c.w_posts, 5, post_cols, diag)) != FORA_OK)
        goto out;
    if ((err = parse_file(&c, in_posts, "posts", "Posts.xml", post_row)) != FORA_OK) goto out;
    if ((err = resolve_pending(&c)) != FORA_OK) goto out;
    vec_free(&c.pending);
    if ((err = sort_unique(&c, &c.posts, in_posts)) != FORA_OK) goto out;

    if ((err = parse_file(&c, in_comments, "comments", "Comments.xml", comment_row)) != FORA_OK)
        goto out;
    err = fora_csv_finish(c.w_posts, diag);
    c.w_posts = NULL;
    if (err) goto out;

    if ((err = write_threads(&c, out_dir, opts->gzip)) != FORA_OK) goto out;
    if ((err = write_boards(&c, out_dir, opts->gzip)) != FORA_OK) goto out;

out:
    /* On error the writers are closed without checking: the bundle is incomplete anyway. */
    (void)fora_csv_finish(c.w_members, NULL);
    (void)fora_csv_finish(c.w_events, NULL);
    (void)fora_csv_finish(c.w_posts, NULL);
    if (stats != NULL) *stats = c.st;
    vec_free(&c.mods);
    vec_free(&c.users);
    vec_free(&c.posts);
    vec_free(&c.threads);
    vec_free(&c.pending);
    boards_free(&c.boards);
    free(in_users);
    free(in_posts);
    free(in_comments);
    free(in_badges);
    return err;
}
