/*
 * server/cmd_import.c - `fora import`, `fora convert` and `fora synth`.
 *
 * A Stack Exchange dump and a synthetic forum both become a CSV bundle first
 * (in a temporary folder unless one is named), and every import goes through
 * the one bundle importer, so they share its checks and its transaction.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fora/import.h"
#include "fora/stackexchange.h"
#include "fora/synth.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Makes a private temporary folder; returns false with diag set. */
static bool make_temp_dir(char *buf, size_t len, fora_diag_t *diag)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/fora-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(buf) == NULL) {
        fora_diag_set(diag, FORA_EIO, "could not create a temporary folder in \"%s\"",
                      tmp && *tmp ? tmp : "/tmp");
        return false;
    }
    return true;
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void print_import_stats(const fora_import_stats_t *s, const char *forum)
{
    printf("imported into forum \"%s\" (id %lld, data version %lld) in %.1f s\n", forum,
           (long long)s->forum_id, (long long)s->data_version, s->seconds);
    for (int f = 0; f < FORA_FILE_COUNT; f++)
        printf("  %-8s %10lld rows read, %10lld new or changed\n",
               fora_bundle_file_name((fora_bundle_file_t)f), (long long)s->read[f],
               (long long)s->changed[f]);
    if (s->rejected) printf("  %lld bad rows rejected\n", (long long)s->rejected);
}

static const char import_usage[] =
    "Usage: fora import --forum NAME [--format csv|stackexchange] [options] PATH\n"
    "Import a forum's structure in one transaction: either everything lands or\n"
    "nothing does.  PATH is a CSV bundle folder (api-docs/csv-bundle.md) or a\n"
    "Stack Exchange dump folder (Users.xml, Posts.xml, Comments.xml, Badges.xml).\n"
    "Importing the same data again changes nothing; newer posts are appended.\n"
    "  --forum NAME       forum to import into (created if new)\n"
    "  --format F         csv (default) or stackexchange\n"
    "  --timezone TZ      IANA time zone of the forum (default: forum.csv's, or UTC)\n"
    "  --source S         where the data came from\n"
    "  --max-errors N     reject up to N bad rows instead of failing (default 0)\n"
    "  --rejects FILE     write rejected rows there (default NAME-rejects.csv)\n"
    "Exit codes: 0 ok, 2 usage or bad option, 3 malformed input (file:line:field\n"
    "named), 4 file not found, 9 database error, 10 schema not current.\n";

int fora_cmd_import(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_import_opts_t io = {0};
    fora_import_stats_t stats;
    enum { OPT_FORUM = FORA_OPT_FIRST_OWN, OPT_FORMAT, OPT_TZ, OPT_SOURCE, OPT_MAXERR, OPT_REJ };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"forum", required_argument, NULL, OPT_FORUM},
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"timezone", required_argument, NULL, OPT_TZ},
                                         {"source", required_argument, NULL, OPT_SOURCE},
                                         {"max-errors", required_argument, NULL, OPT_MAXERR},
                                         {"rejects", required_argument, NULL, OPT_REJ},
                                         {NULL, 0, NULL, 0}};
    const char *format = "csv";
    char rejects[512] = "", tmp[512] = "";
    PGconn *conn = NULL;
    int c, rc = 0;
    long long n;

    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, import_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        switch (c) {
        case OPT_FORUM:
            io.forum = optarg;
            break;
        case OPT_FORMAT:
            format = optarg;
            break;
        case OPT_TZ:
            io.timezone = optarg;
            break;
        case OPT_SOURCE:
            io.source = optarg;
            break;
        case OPT_MAXERR:
            if (!fora_cli_parse_int("import", "max-errors", optarg, 0, 1000000000, &n)) return 2;
            io.max_errors = (long)n;
            break;
        case OPT_REJ:
            snprintf(rejects, sizeof(rejects), "%s", optarg);
            break;
        default:
            return fora_cli_usage_error("import", "unknown option");
        }
    }
    if (optind != argc - 1) return fora_cli_usage_error("import", "expected one PATH");
    if (strcmp(format, "csv") != 0 && strcmp(format, "stackexchange") != 0)
        return fora_cli_usage_error("import", "--format must be csv or stackexchange, not \"%s\"",
                                    format);
    const char *path = argv[optind];
    io.format = format;
    io.origin = path;
    io.quiet = cli.quiet;
    if (io.max_errors > 0) {
        if (rejects[0] == '\0')
            snprintf(rejects, sizeof(rejects), "%s-rejects.csv", io.forum ? io.forum : "import");
        io.rejects_path = rejects;
    }
    if (io.forum == NULL && strcmp(format, "stackexchange") == 0)
        return fora_cli_usage_error("import", "--forum NAME is required for a Stack Exchange dump");

    const char *bundle = path;
    if (strcmp(format, "stackexchange") == 0) {
        fora_se_opts_t so = {.forum_name = io.forum, .source = io.source, .quiet = cli.quiet};
        if (!make_temp_dir(tmp, sizeof(tmp), &diag)) return fora_cli_fail(&diag);
        if (fora_se_convert(path, tmp, &so, NULL, &diag) != FORA_OK) {
            rc = fora_cli_fail(&diag);
            goto out;
        }
        bundle = tmp;
    }
    if (fora_cli_connect(&cli, true, &conn, &diag) != FORA_OK) {
        rc = fora_cli_fail(&diag);
        goto out;
    }
    if (fora_import_bundle(conn, bundle, &io, &stats, &diag) != FORA_OK) {
        rc = fora_cli_fail(&diag);
        fprintf(stderr, "fora: nothing was imported\n");
        goto out;
    }
    if (!cli.quiet) print_import_stats(&stats, io.forum ? io.forum : "(from forum.csv)");
    if (stats.rejected)
        fprintf(stderr, "fora: %lld bad rows rejected, listed in %s\n", (long long)stats.rejected,
                rejects);
out:
    PQfinish(conn);
    if (tmp[0]) remove_tree(tmp);
    return rc;
}

static const char convert_usage[] =
    "Usage: fora convert --format stackexchange [--forum NAME] [--gzip] DUMP OUT\n"
    "Convert a Stack Exchange data dump folder into a CSV bundle in OUT (no text\n"
    "is copied: ids, times, tags, reputation bands only).  See\n"
    "server/sample/README.md for the mapping.\n"
    "  --forum NAME   forum name written into forum.csv\n"
    "  --source S     source label written into forum.csv\n"
    "  --gzip         write .csv.gz files\n";

int fora_cmd_convert(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_se_opts_t so = {0};
    fora_se_stats_t st;
    enum { OPT_FORUM = FORA_OPT_FIRST_OWN, OPT_FORMAT, OPT_SOURCE, OPT_GZIP };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"forum", required_argument, NULL, OPT_FORUM},
                                         {"format", required_argument, NULL, OPT_FORMAT},
                                         {"source", required_argument, NULL, OPT_SOURCE},
                                         {"gzip", no_argument, NULL, OPT_GZIP},
                                         {NULL, 0, NULL, 0}};
    const char *format = "stackexchange";
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, convert_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        switch (c) {
        case OPT_FORUM:
            so.forum_name = optarg;
            break;
        case OPT_FORMAT:
            format = optarg;
            break;
        case OPT_SOURCE:
            so.source = optarg;
            break;
        case OPT_GZIP:
            so.gzip = true;
            break;
        default:
            return fora_cli_usage_error("convert", "unknown option");
        }
    }
    if (strcmp(format, "stackexchange") != 0)
        return fora_cli_usage_error("convert", "only --format stackexchange can be converted");
    if (optind != argc - 2) return fora_cli_usage_error("convert", "expected DUMP and OUT");
    so.quiet = cli.quiet;
    if (fora_se_convert(argv[optind], argv[optind + 1], &so, &st, &diag) != FORA_OK)
        return fora_cli_fail(&diag);
    if (!cli.quiet)
        printf("wrote %s: %lld members, %lld boards, %lld threads, %lld answers, %lld comments, "
               "%lld visits (skipped %lld posts, %lld comments)\n",
               argv[optind + 1], (long long)st.users, (long long)st.boards, (long long)st.questions,
               (long long)st.answers, (long long)st.comments, (long long)st.visits,
               (long long)st.skipped_posts, (long long)st.skipped_comments);
    return 0;
}

static const char synth_usage[] =
    "Usage: fora synth [options] (--out DIR | --import | both)\n"
    "Generate a seeded synthetic forum with planted ground truth (activity groups,\n"
    "key players): a CSV bundle plus truth_members.csv and truth.json.  The model\n"
    "is documented in api-docs/synth.md.\n"
    "  --out DIR             write the bundle and truth there\n"
    "  --import              import it into the database (forum --forum)\n"
    "  --forum NAME          forum name (default synth)\n"
    "  --members N           accounts (default 10000)\n"
    "  --posts N             target posts (default 100000)\n"
    "  --boards N            boards (default 20)\n"
    "  --months N            span in months (default 60)\n"
    "  --seed S              random seed (default 1)\n"
    "  --timezone TZ         the forum's IANA zone (default Europe/Amsterdam)\n"
    "  --key-players N       planted moderators (default max(3, members/2000))\n"
    "  --ban-rate X          share of members banned (default 0.05)\n"
    "  --events-per-member X mean non-posting events per member (default 5)\n"
    "  --gzip                write .csv.gz files\n";

int fora_cmd_synth(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_synth_opts_t so;
    fora_synth_stats_t st;
    enum {
        OPT_OUT = FORA_OPT_FIRST_OWN,
        OPT_IMPORT,
        OPT_FORUM,
        OPT_MEMBERS,
        OPT_POSTS,
        OPT_BOARDS,
        OPT_MONTHS,
        OPT_SEED,
        OPT_TZ,
        OPT_KEY,
        OPT_BAN,
        OPT_EVENTS,
        OPT_GZIP
    };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"import", no_argument, NULL, OPT_IMPORT},
                                         {"forum", required_argument, NULL, OPT_FORUM},
                                         {"members", required_argument, NULL, OPT_MEMBERS},
                                         {"posts", required_argument, NULL, OPT_POSTS},
                                         {"boards", required_argument, NULL, OPT_BOARDS},
                                         {"months", required_argument, NULL, OPT_MONTHS},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {"timezone", required_argument, NULL, OPT_TZ},
                                         {"key-players", required_argument, NULL, OPT_KEY},
                                         {"ban-rate", required_argument, NULL, OPT_BAN},
                                         {"events-per-member", required_argument, NULL, OPT_EVENTS},
                                         {"gzip", no_argument, NULL, OPT_GZIP},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    bool do_import = false;
    char tmp[512] = "";
    PGconn *conn = NULL;
    int c, rc = 0;
    long long n;
    char *end;

    fora_synth_opts_default(&so);
    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, synth_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        switch (c) {
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_IMPORT:
            do_import = true;
            break;
        case OPT_FORUM:
            so.forum_name = optarg;
            break;
        case OPT_MEMBERS:
            if (!fora_cli_parse_int("synth", "members", optarg, 1, 100000000, &n)) return 2;
            so.members = n;
            break;
        case OPT_POSTS:
            if (!fora_cli_parse_int("synth", "posts", optarg, 0, 1000000000, &n)) return 2;
            so.posts = n;
            break;
        case OPT_BOARDS:
            if (!fora_cli_parse_int("synth", "boards", optarg, 1, 100000, &n)) return 2;
            so.boards = n;
            break;
        case OPT_MONTHS:
            if (!fora_cli_parse_int("synth", "months", optarg, 1, 1200, &n)) return 2;
            so.months = (int)n;
            break;
        case OPT_SEED:
            if (!fora_cli_parse_int("synth", "seed", optarg, 0, INT64_MAX, &n)) return 2;
            so.seed = (uint64_t)n;
            break;
        case OPT_TZ:
            so.timezone = optarg;
            break;
        case OPT_KEY:
            if (!fora_cli_parse_int("synth", "key-players", optarg, 0, 1000000, &n)) return 2;
            so.key_players = (int)n;
            break;
        case OPT_BAN:
        case OPT_EVENTS: {
            double v = strtod(optarg, &end);
            if (end == optarg || *end != '\0')
                return fora_cli_usage_error("synth", "--%s must be a number, not \"%s\"",
                                            c == OPT_BAN ? "ban-rate" : "events-per-member",
                                            optarg);
            if (c == OPT_BAN)
                so.ban_rate = v;
            else
                so.events_per_member = v;
            break;
        }
        case OPT_GZIP:
            so.gzip = true;
            break;
        default:
            return fora_cli_usage_error("synth", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("synth", "unexpected argument");
    if (out == NULL && !do_import)
        return fora_cli_usage_error("synth", "give --out DIR, --import or both");
    so.quiet = cli.quiet;
    if (out == NULL) {
        if (!make_temp_dir(tmp, sizeof(tmp), &diag)) return fora_cli_fail(&diag);
        out = tmp;
    }
    if (fora_synth_write(&so, out, &st, &diag) != FORA_OK) {
        rc = fora_cli_fail(&diag);
        goto done;
    }
    if (!cli.quiet)
        printf("generated forum \"%s\": %lld members, %lld boards, %lld threads, %lld posts, "
               "%lld events, %lld banned%s%s\n",
               so.forum_name, (long long)st.members, (long long)st.boards, (long long)st.threads,
               (long long)st.posts, (long long)st.events, (long long)st.banned,
               tmp[0] ? "" : " in ", tmp[0] ? "" : out);
    if (do_import) {
        fora_import_opts_t io = {.forum = so.forum_name,
                                 .format = "synth",
                                 .quiet = cli.quiet,
                                 .origin = tmp[0] ? "fora synth" : out};
        fora_import_stats_t is;
        if (fora_cli_connect(&cli, true, &conn, &diag) != FORA_OK ||
            fora_import_bundle(conn, out, &io, &is, &diag) != FORA_OK) {
            rc = fora_cli_fail(&diag);
            goto done;
        }
        if (!cli.quiet) print_import_stats(&is, so.forum_name);
    }
done:
    PQfinish(conn);
    if (tmp[0]) remove_tree(tmp);
    return rc;
}
