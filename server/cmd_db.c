/*
 * server/cmd_db.c - `fora db start|stop|status` and `fora migrate`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char db_usage[] =
    "Usage: fora db start|stop|status [options]\n"
    "Manage the embedded PostgreSQL cluster (used when no database URL is set).\n"
    "  start    create the cluster on first use and start it (a no-op when running)\n"
    "  stop     shut it down cleanly (a no-op when stopped)\n"
    "  status   say whether it runs and print the connection string for psql\n"
    "  --port N also listen on 127.0.0.1:N (password authentication there)\n";

int fora_cmd_db(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    static const struct option opts[] = {
        FORA_CLI_COMMON_OPTIONS, {"port", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0}};
    int c;
    long long port = 0;

    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, db_usage);
        if (r < 0) return 0;
        if (r > 0) continue;
        if (c == 'p') {
            if (!fora_cli_parse_int("db", "port", optarg, 1, 65535, &port)) return 2;
            cli.db.port = (int)port;
        } else {
            return fora_cli_usage_error("db", "unknown option");
        }
    }
    if (optind != argc - 1) return fora_cli_usage_error("db", "expected start, stop or status");
    const char *action = argv[optind];
    if (strcmp(action, "start") == 0) {
        if (fora_db_start(&cli.db, &diag) != FORA_OK) return fora_cli_fail(&diag);
        char info[1024];
        if (fora_db_conninfo(&cli.db, NULL, info, sizeof(info), &diag) != FORA_OK)
            return fora_cli_fail(&diag);
        if (!cli.quiet) printf("database running: psql \"%s\"\n", info);
        return 0;
    }
    if (strcmp(action, "stop") == 0) {
        if (fora_db_stop(&cli.db, &diag) != FORA_OK) return fora_cli_fail(&diag);
        if (!cli.quiet) printf("database stopped\n");
        return 0;
    }
    if (strcmp(action, "status") == 0) {
        bool running;
        char info[1024];
        if (fora_db_status(&cli.db, &running, info, sizeof(info), &diag) != FORA_OK)
            return fora_cli_fail(&diag);
        printf("%s%s\nconnect with: psql \"%s\"\n", running ? "running" : "not running",
               fora_dbconf_embedded(&cli.db) ? " (embedded cluster)" : " (external server)", info);
        return running ? 0 : 3;
    }
    return fora_cli_usage_error("db", "unknown action \"%s\"", action);
}

static const char migrate_usage[] =
    "Usage: fora migrate [options]\n"
    "Apply the numbered SQL migrations not yet applied, each in its own\n"
    "transaction, in order (env FORA_MIGRATIONS_DIR overrides their folder).\n"
    "Running it again is a no-op.\n";

int fora_cmd_migrate(int argc, char **argv)
{
    fora_cli_t cli = {0};
    fora_diag_t diag = FORA_DIAG_INIT;
    static const struct option opts[] = {FORA_CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    PGconn *conn = NULL;
    int c, applied = 0;

    fora_dbconf_from_env(&cli.db);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = fora_cli_common(&cli, c, migrate_usage);
        if (r < 0) return 0;
        if (r == 0) return fora_cli_usage_error("migrate", "unknown option");
    }
    if (optind != argc) return fora_cli_usage_error("migrate", "unexpected argument");
    if (fora_cli_connect(&cli, false, &conn, &diag) != FORA_OK) return fora_cli_fail(&diag);
    fora_err_t err = fora_migrate(conn, fora_migrations_dir(), cli.quiet, &applied, &diag);
    PQfinish(conn);
    if (err != FORA_OK) return fora_cli_fail(&diag);
    if (!cli.quiet)
        printf("schema is current (%d migration%s applied now)\n", applied,
               applied == 1 ? "" : "s");
    return 0;
}
