/*
 * server/cmd_token.c - `fora token create|list|revoke`: API tokens.
 *
 * A token is "fora_" followed by 40 hex digits (160 bits from getrandom()).
 * It is printed once, at creation; the database keeps its SHA-256 (computed
 * by PostgreSQL's sha256()) and its first 12 characters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli.h"

static const char token_usage[] =
    "Usage: fora token create --name NAME [--role read|admin]\n"
    "       fora token list\n"
    "       fora token revoke ID\n"
    "API tokens for `fora serve`: every /v1 request needs `Authorization: Bearer TOKEN`.\n"
    "A read token may GET every route; an admin token may also queue recomputes.\n"
    "`create` prints the new token once: only its hash is stored.\n"
    "  --name NAME   what the token is for (1-64 characters)\n"
    "  --role ROLE   read (default) or admin\n";

fora_err_t fora_token_generate(char out[46])
{
    unsigned char raw[20];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0) return FORA_EIO;
        got += (size_t)n;
    }
    memcpy(out, "fora_", 5);
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 5 + 2 * i, 3, "%02x", raw[i]);
    return FORA_OK;
}

static int create(PGconn *conn, const char *name, const char *role, bool quiet)
{
    char token[46], prefix[13];
    fora_diag_t diag = FORA_DIAG_INIT;
    if (fora_token_generate(token) != FORA_OK) {
        fprintf(stderr, "fora token: no random bytes from the kernel\n");
        return fora_err_exit_code(FORA_EIO);
    }
    snprintf(prefix, sizeof(prefix), "%s", token);
    const char *p[] = {name, role, token, prefix};
    PGresult *r = PQexecParams(conn,
                               "INSERT INTO api_tokens (name, role, hash, prefix)"
                               " VALUES ($1, $2, sha256(convert_to($3, 'UTF8')), $4) RETURNING id",
                               4, NULL, p, NULL, NULL, 0);
    fora_err_t err = fora_db_check(r, PGRES_TUPLES_OK, "creating the token", &diag);
    if (err == FORA_OK && !quiet)
        fprintf(stderr, "fora: token %s (%s, %s) created; it is shown only now:\n",
                PQgetvalue(r, 0, 0), name, role);
    if (err == FORA_OK) printf("%s\n", token);
    PQclear(r);
    return err == FORA_OK ? 0 : fora_cli_fail(&diag);
}

static int list(PGconn *conn)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    PGresult *r = PQexec(conn, "SELECT id, name, role, prefix || '...',"
                               " to_char(created_at, 'YYYY-MM-DD HH24:MI'),"
                               " COALESCE(to_char(last_used_at, 'YYYY-MM-DD HH24:MI'), '-'),"
                               " COALESCE(to_char(revoked_at, 'YYYY-MM-DD HH24:MI'), '-')"
                               " FROM api_tokens ORDER BY id");
    if (fora_db_check(r, PGRES_TUPLES_OK, "listing tokens", &diag) != FORA_OK) {
        PQclear(r);
        return fora_cli_fail(&diag);
    }
    printf("%-6s %-24s %-6s %-16s %-16s %-16s %s\n", "id", "name", "role", "token", "created",
           "last used", "revoked");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-6s %-24s %-6s %-16s %-16s %-16s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
               PQgetvalue(r, i, 6));
    PQclear(r);
    return 0;
}

static int revoke(PGconn *conn, const char *id, bool quiet)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    const char *p[] = {id};
    PGresult *r = PQexecParams(conn,
                               "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now())"
                               " WHERE id = $1::bigint RETURNING id",
                               1, NULL, p, NULL, NULL, 0);
    fora_err_t err = fora_db_check(r, PGRES_TUPLES_OK, "revoking the token", &diag);
    if (err == FORA_OK && PQntuples(r) == 0)
        err = fora_diag_set(&diag, FORA_ENOTFOUND, "no token %s", id);
    PQclear(r);
    if (err != FORA_OK) return fora_cli_fail(&diag);
    if (!quiet) fprintf(stderr, "fora: token %s revoked\n", id);
    return 0;
}

int fora_cmd_token(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    enum { OPT_NAME = FORA_OPT_FIRST_OWN, OPT_ROLE };
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS,
                                         {"name", required_argument, NULL, OPT_NAME},
                                         {"role", required_argument, NULL, OPT_ROLE},
                                         {NULL, 0, NULL, 0}};
    const char *name = NULL, *role = "read";
    PGconn *conn = NULL;
    int c, rc;

    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, token_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        switch (c) {
        case OPT_NAME:
            name = optarg;
            break;
        case OPT_ROLE:
            if (strcmp(optarg, "read") != 0 && strcmp(optarg, "admin") != 0)
                return fora_cli_usage_error("token", "--role must be read or admin, not \"%s\"",
                                            optarg);
            role = optarg;
            break;
        default:
            return fora_cli_usage_error("token", "unknown option");
        }
    }
    if (optind >= argc) return fora_cli_usage_error("token", "expected create, list or revoke");
    const char *verb = argv[optind++];
    if (strcmp(verb, "create") == 0) {
        if (name == NULL || name[0] == '\0' || strlen(name) > 64)
            return fora_cli_usage_error("token", "create needs --name (1-64 characters)");
        if (optind != argc) return fora_cli_usage_error("token", "unexpected argument");
    } else if (strcmp(verb, "list") == 0) {
        if (optind != argc) return fora_cli_usage_error("token", "unexpected argument");
    } else if (strcmp(verb, "revoke") == 0) {
        long long id;
        if (optind != argc - 1) return fora_cli_usage_error("token", "revoke needs one token ID");
        if (!fora_cli_parse_int("token", "ID", argv[optind], 1, INT64_MAX, &id)) return 2;
    } else {
        return fora_cli_usage_error("token", "unknown action \"%s\"", verb);
    }
    if (fora_cli_connect(&cli, true, &conn, &diag) != FORA_OK) return fora_cli_fail(&diag);
    if (strcmp(verb, "create") == 0)
        rc = create(conn, name, role, cli.quiet);
    else if (strcmp(verb, "list") == 0)
        rc = list(conn);
    else
        rc = revoke(conn, argv[optind], cli.quiet);
    PQfinish(conn);
    return rc;
}
