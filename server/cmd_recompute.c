/*
 * server/cmd_recompute.c - `fora recompute --forum X | --all`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fora/progress.h"
#include "fora/recompute.h"
#include "fora/snapshot_load.h"

static const char recompute_usage[] =
    "Usage: fora recompute (--forum NAME|ID ... | --all) [options]\n"
    "Run a forum's analyses as one new analysis run: its results become visible\n"
    "together when it completes; a failed run is recorded with its error and the\n"
    "previous results stay served.\n"
    "  --forum F         a forum by name or id (repeatable)\n"
    "  --all             every forum\n"
    "  --reply-rule R    explicit_or_starter (default): a post without reply_to\n"
    "                    replies to its thread's starter; explicit_only;\n"
    "                    starter_only\n"
    "  --keep-self-loops keep replies to oneself in the reply graph\n"
    "  --only A[,B...]   run only these analyses (summary always runs): summary,\n"
    "                    keyplayers, trajectories, linking\n"
    "  --seed N          seed of every random choice (default 1; stored in the run)\n"
    "  --from T, --to T  analyse only posts in [from, to) (timestamps or Unix seconds)\n"
    "  --weights SPEC    composite weights, e.g. pagerank:0.5,betweenness:0.5\n"
    "  --staff-labels L  member statuses that count as staff in role validation\n"
    "                    (default administrator,admin,moderator,staff)\n"
    "  --kpp-k N         size of the key-player sets (default 20)\n"
    "  --repetitions N   random-removal repetitions in the disruption (default 10)\n"
    "  --traj-period P, --traj-time T, --traj-model M, --traj-zero-order Z,\n"
    "  --traj-order D[,D...], --traj-kmin K, --traj-kmax K, --traj-starts N,\n"
    "  --traj-min-share S, --traj-exposure B, --traj-labels G=L,...\n"
    "                    the trajectories analysis (api-docs/trajectories.md)\n";

/* The terminal bar of one run: its phases (loading, each analysis, storing). */
typedef struct phase_bar {
    const char *forum;
    bool started;
    fora_progress_t p;
} phase_bar_t;

static void draw_phase(void *arg, int64_t run_id, const char *what, int done, int total)
{
    phase_bar_t *pb = arg;
    if (!pb->started) {
        fora_progress_begin(&pb->p, false, "", total);
        pb->p.phases = true;
        pb->started = true;
    }
    snprintf(pb->p.label, sizeof(pb->p.label), "%.16s run %lld: %s", pb->forum, (long long)run_id,
             what);
    pb->p.done = done;
    pb->p.total = total;
    fora_progress_draw(&pb->p);
}

int fora_cmd_recompute(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_recompute_opts_t ro;
    enum { OPT_FORUM = FORA_OPT_FIRST_OWN, OPT_ALL, OPT_SELF, OPT_NAMED };
    static const struct option fixed[] = {FORA_CLI_COMMON_OPTIONS,
                                          {"forum", required_argument, NULL, OPT_FORUM},
                                          {"all", no_argument, NULL, OPT_ALL},
                                          {"keep-self-loops", no_argument, NULL, OPT_SELF}};
    /* then one option per fora_recompute_option_names entry, '_' spelt '-' */
    enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]), MAXNAMED = 48 };
    static struct option opts[NFIXED + MAXNAMED + 1];
    static char spelt[MAXNAMED][32];
    int nnamed = 0;
    memcpy(opts, fixed, sizeof(fixed));
    for (; fora_recompute_option_names[nnamed] && nnamed < MAXNAMED; nnamed++) {
        char *o = spelt[nnamed];
        snprintf(o, sizeof(spelt[0]), "%s", fora_recompute_option_names[nnamed]);
        for (char *q = o; *q; q++)
            if (*q == '_') *q = '-';
        opts[NFIXED + nnamed] = (struct option){o, required_argument, NULL, OPT_NAMED + nnamed};
    }
    opts[NFIXED + nnamed] = (struct option){NULL, 0, NULL, 0};
    const char *forums[64];
    int nforums = 0, c, rc = 0;
    bool all = false;
    PGconn *conn = NULL;
    PGresult *list = NULL;
    int64_t *ids = NULL;       /* the forums to recompute ... */
    const char **names = NULL; /* ... and how to name them in messages */

    fora_recompute_opts_init(&ro);
    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, recompute_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        if (c >= OPT_NAMED && c < OPT_NAMED + nnamed) {
            if (fora_recompute_opts_set(&ro, fora_recompute_option_names[c - OPT_NAMED], optarg,
                                        &diag) != FORA_OK)
                return fora_cli_usage_error("recompute", "%s", diag.msg);
            continue;
        }
        switch (c) {
        case OPT_FORUM:
            if (nforums == 64) return fora_cli_usage_error("recompute", "at most 64 --forum");
            forums[nforums++] = optarg;
            break;
        case OPT_ALL:
            all = true;
            break;
        case OPT_SELF:
            ro.graph.keep_self_loops = true;
            break;
        default:
            return fora_cli_usage_error("recompute", "unknown option");
        }
    }
    if (optind != argc) return fora_cli_usage_error("recompute", "unexpected argument");
    if ((nforums == 0) == !all)
        return fora_cli_usage_error("recompute", "give --forum F (one or more) or --all");
    ro.quiet = cli.quiet;
    if (fora_cli_connect(&cli, true, &conn, &diag) != FORA_OK) return fora_cli_fail(&diag);

    /* resolve the forums first, so a typo fails before any run starts */
    int n = 0;
    if (all) {
        list = PQexec(conn, "SELECT id, name FROM forums ORDER BY name");
        if (fora_db_check(list, PGRES_TUPLES_OK, "listing forums", &diag) != FORA_OK) {
            rc = fora_cli_fail(&diag);
            goto out;
        }
    }
    size_t cap = all ? (size_t)PQntuples(list) : (size_t)nforums;
    ids = fora_xcalloc(cap, sizeof(*ids));
    names = fora_xcalloc(cap, sizeof(*names));
    if (all) {
        for (n = 0; n < PQntuples(list); n++) {
            ids[n] = atoll(PQgetvalue(list, n, 0));
            names[n] = PQgetvalue(list, n, 1);
        }
    } else {
        for (n = 0; n < nforums; n++) {
            if (fora_forum_lookup(conn, forums[n], &ids[n], &diag) != FORA_OK) {
                rc = fora_cli_fail(&diag);
                goto out;
            }
            names[n] = forums[n];
        }
    }
    /* on a terminal a bar per run; otherwise (logs, CI) recompute's own progress lines */
    bool bar = !cli.quiet && isatty(fileno(stderr));
    phase_bar_t pb = {0};
    if (bar) {
        ro.quiet = true;
        ro.progress = draw_phase;
        ro.progress_arg = &pb;
    }
    for (int i = 0; i < n; i++) {
        fora_recompute_result_t res;
        fora_diag_clear(&diag);
        pb.forum = names[i];
        pb.started = false;
        fora_err_t e = fora_recompute_forum(conn, ids[i], &ro, &res, &diag);
        if (bar && pb.started) fprintf(stderr, "\r%*s\r", 80, ""); /* clear the bar */
        if (e != FORA_OK) {
            fprintf(stderr, "fora: forum \"%s\": run %lld failed\n", names[i],
                    (long long)res.run_id);
            rc = fora_cli_fail(&diag);
            continue; /* the other forums still get their runs */
        }
        printf("forum \"%s\": run %lld completed in %.2f s (data version %lld)\n", names[i],
               (long long)res.run_id, res.seconds, (long long)res.watermark);
    }
out:
    free(ids);
    free(names);
    PQclear(list);
    PQfinish(conn);
    return rc;
}
