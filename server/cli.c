/*
 * server/cli.c - what the subcommands share: options, errors, connecting.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fora_cli_common(fora_cli_t *cli, int c, const char *usage)
{
    switch (c) {
    case FORA_OPT_DATABASE_URL:
        cli->db.url = optarg;
        return 1;
    case FORA_OPT_DATA_DIR:
        cli->db.data_dir = optarg;
        return 1;
    case FORA_OPT_QUIET:
        cli->quiet = true;
        cli->db.quiet = true;
        return 1;
    case FORA_OPT_HELP:
        fputs(usage, stdout);
        fputs(FORA_CLI_COMMON_HELP, stdout);
        return -1;
    default:
        return 0;
    }
}

int fora_cli_fail(const fora_diag_t *diag)
{
    fprintf(stderr, "fora: %s\n", diag->msg[0] ? diag->msg : fora_strerror(diag->code));
    return fora_err_exit_code(diag->code);
}

fora_err_t fora_cli_print_json(const json_t *doc, size_t flags, fora_diag_t *diag)
{
    if (json_dumpf(doc, stdout, flags) != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return fora_diag_set(diag, FORA_EIO, "could not write the JSON to stdout: %s",
                             strerror(errno));
    return FORA_OK;
}

int fora_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fora %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'fora %s --help'.\n", cmd);
    return 2;
}

bool fora_cli_parse_int(const char *cmd, const char *opt, const char *s, long long min,
                        long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fora_cli_usage_error(cmd, "--%s must be a whole number from %lld to %lld, not \"%s\"", opt,
                             min, max, s);
        return false;
    }
    *out = v;
    return true;
}

fora_err_t fora_cli_connect(const fora_cli_t *cli, bool need_schema, PGconn **conn,
                            fora_diag_t *diag)
{
    fora_err_t err = fora_db_connect(&cli->db, conn, diag);
    if (err != FORA_OK || !need_schema) return err;
    int pending = 0;
    err = fora_migrate_pending(*conn, fora_migrations_dir(), &pending, diag);
    if (err == FORA_OK && pending > 0)
        err = fora_diag_set(diag, FORA_ESCHEMA,
                            "the database schema is behind by %d migration%s: run `fora migrate`",
                            pending, pending == 1 ? "" : "s");
    if (err != FORA_OK) {
        PQfinish(*conn);
        *conn = NULL;
    }
    return err;
}
