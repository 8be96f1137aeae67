/*
 * server/cmd_longevity.c - `fora longevity`: a forum's member (or thread)
 * longevity observations as a time,event[,group] CSV, the input of
 * `fora survival --csv` and of any other survival tool (R, lifelines).
 *
 * The observations are exactly those the analysis computes
 * (fora_longevity_members / fora_longevity_threads on the loaded snapshot),
 * so `fora longevity ... --out F && fora survival --csv F` is the
 * Kaplan-Meier estimate of fora, and R on F checks it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fora/longevity.h"
#include "fora/snapshot_load.h"
#include "fora/tzmap_load.h"

static const char longevity_usage[] =
    "Usage: fora longevity --forum NAME --out FILE [options]\n"
    "Writes the forum's longevity observations as CSV: time (days), event (1 event,\n"
    "0 censored at the end of the data) and, when grouped, group.  Definitions:\n"
    "api-docs/rhythms.md.\n"
    "  --forum NAME        the forum (name or id)\n"
    "  --out FILE          where to write the CSV ('-': standard output)\n"
    "  --of members|threads            (members)\n"
    "  --origin registration|first_post (registration)\n"
    "  --event ban|silence|ban_or_silence (ban_or_silence)\n"
    "  --silence-days N    days without activity that count as leaving (90)\n"
    "  --group-by none|status|category|cohort (none; threads: none|category)\n"
    "  --cohort month|quarter|year     (month)\n"
    "  --zone ZONE         IANA zone of the cohorts (the forum's)\n"
    "Empty group labels are written as \"(none)\".\n";

/* Writes a CSV field, quoted when it needs to be. */
static void put_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int fora_cmd_longevity(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    enum {
        OPT_FORUM = FORA_OPT_FIRST_OWN,
        OPT_OUT,
        OPT_OF,
        OPT_ORIGIN,
        OPT_EVENT,
        OPT_SILENCE,
        OPT_GROUP_BY,
        OPT_COHORT,
        OPT_ZONE
    };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"forum", required_argument, NULL, OPT_FORUM},
                                         {"out", required_argument, NULL, OPT_OUT},
                                         {"of", required_argument, NULL, OPT_OF},
                                         {"origin", required_argument, NULL, OPT_ORIGIN},
                                         {"event", required_argument, NULL, OPT_EVENT},
                                         {"silence-days", required_argument, NULL, OPT_SILENCE},
                                         {"group-by", required_argument, NULL, OPT_GROUP_BY},
                                         {"cohort", required_argument, NULL, OPT_COHORT},
                                         {"zone", required_argument, NULL, OPT_ZONE},
                                         {NULL, 0, NULL, 0}};
    const char *forum = NULL, *out = NULL, *zone = NULL;
    bool threads = false;
    fora_longevity_opts_t lo;
    PGconn *conn = NULL;
    fora_snapshot_t *s = NULL;
    fora_tzmap_t *tz = NULL;
    fora_longevity_t *l = NULL;
    FILE *f = NULL;
    int c, rc = 0;
    long long days;

    fora_longevity_opts_init(&lo);
    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, longevity_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        fora_err_t e = FORA_OK;
        switch (c) {
        case OPT_FORUM:
            forum = optarg;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_OF:
            if (strcmp(optarg, "members") != 0 && strcmp(optarg, "threads") != 0)
                return fora_cli_usage_error("longevity", "--of is members or threads, not \"%s\"",
                                            optarg);
            threads = strcmp(optarg, "threads") == 0;
            break;
        case OPT_ORIGIN:
            e = fora_origin_parse(optarg, "origin", &lo.origin, &diag);
            break;
        case OPT_EVENT:
            e = fora_life_event_parse(optarg, "event", &lo.event, &diag);
            break;
        case OPT_SILENCE:
            if (!fora_cli_parse_int("longevity", "--silence-days", optarg, 1, 1000000, &days))
                return 2;
            lo.silence = (int64_t)days * 86400;
            break;
        case OPT_GROUP_BY:
            e = fora_life_group_parse(optarg, "group-by", &lo.group_by, &diag);
            if (e == FORA_OK && lo.group_by == FORA_LIFE_GROUP_GROUP)
                return fora_cli_usage_error("longevity", "--group-by group needs an API caller");
            break;
        case OPT_COHORT:
            e = fora_cohort_parse(optarg, "cohort", &lo.cohort, &diag);
            break;
        case OPT_ZONE:
            zone = optarg;
            break;
        default:
            return fora_cli_usage_error("longevity", "unknown option");
        }
        if (e != FORA_OK) return fora_cli_usage_error("longevity", "%s", diag.msg);
    }
    if (optind != argc) return fora_cli_usage_error("longevity", "unexpected argument");
    if (forum == NULL || out == NULL)
        return fora_cli_usage_error("longevity", "--forum NAME and --out FILE are required");

    int64_t id;
    if (fora_cli_connect(&cli, true, &conn, &diag) != FORA_OK) goto fail;
    if (fora_forum_lookup(conn, forum, &id, &diag) != FORA_OK) goto fail;
    if (fora_snapshot_load(conn, id, &s, &diag) != FORA_OK) goto fail;
    PQfinish(conn);
    conn = NULL;
    if (lo.group_by == FORA_LIFE_GROUP_COHORT) {
        /* a table over the registrations' span */
        int64_t t0 = INT64_MAX, t1 = INT64_MIN;
        for (int32_t m = 0; m < s->members.n; m++) {
            int64_t t = s->members.registered_at[m];
            if (t == FORA_TIME_NONE) continue;
            if (t < t0) t0 = t;
            if (t > t1) t1 = t;
        }
        if (t0 > t1) t0 = t1 = 0;
        if (fora_tzmap_load(zone ? zone : s->forum.timezone, t0, t1, &tz, &diag) != FORA_OK)
            goto fail;
        lo.tz = tz;
    } else if (zone != NULL && fora_tzmap_check_zone(zone, &diag) != FORA_OK) {
        goto fail;
    }
    fora_err_t e = threads ? fora_longevity_threads(s, &lo, &l, &diag)
                           : fora_longevity_members(s, &lo, &l, &diag);
    if (e != FORA_OK) goto fail;

    f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
    if (f == NULL) {
        fora_diag_set(&diag, FORA_EIO, "cannot write \"%s\"", out);
        goto fail;
    }
    fputs(l->group ? "time,event,group\n" : "time,event\n", f);
    for (size_t i = 0; i < l->n; i++) {
        fprintf(f, "%.17g,%d", l->time[i], l->event[i]);
        if (l->group) {
            const char *lab = l->group_labels[l->group[i]];
            fputc(',', f);
            put_field(f, *lab ? lab : "(none)");
        }
        fputc('\n', f);
    }
    if (f != stdout ? fclose(f) != 0 : fflush(f) != 0) {
        f = NULL;
        fora_diag_set(&diag, FORA_EIO, "cannot write \"%s\"", out);
        goto fail;
    }
    f = NULL;
    if (!cli.quiet)
        fprintf(stderr, "fora: %zu observations (%zu left out), end of data %lld\n", l->n,
                l->excluded, (long long)l->end);
    goto out;
fail:
    rc = fora_cli_fail(&diag);
out:
    if (f != NULL && f != stdout) fclose(f);
    fora_longevity_destroy(l);
    fora_tzmap_destroy(tz);
    fora_snapshot_destroy(s);
    if (conn) PQfinish(conn);
    return rc;
}
