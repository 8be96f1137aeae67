/*
 * server/cli.h - private: the `fora` subcommands and their shared options.
 *
 * Every subcommand is a function taking its own argv (argv[0] is the
 * subcommand's name) and returning a process exit code: 0 on success, the
 * error's documented exit code (fora_err_exit_code) otherwise.
 */
#ifndef FORA_CLI_H
#define FORA_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

#include "fora/db.h"
#include "fora/error.h"

/* Options every subcommand accepts. */
typedef struct fora_cli {
    fora_dbconf_t db;
    bool quiet;
} fora_cli_t;

/* getopt_long codes of the common options, above any short option. */
enum {
    FORA_OPT_DATABASE_URL = 1000,
    FORA_OPT_DATA_DIR,
    FORA_OPT_QUIET,
    FORA_OPT_HELP,
    FORA_OPT_FIRST_OWN /* a subcommand's own long-only options start here */
};

#define FORA_CLI_COMMON_OPTIONS                                                                    \
    {"database-url", required_argument, NULL, FORA_OPT_DATABASE_URL},                              \
        {"data-dir", required_argument, NULL, FORA_OPT_DATA_DIR},                                  \
        {"quiet", no_argument, NULL, FORA_OPT_QUIET},                                              \
    {                                                                                              \
        "help", no_argument, NULL, FORA_OPT_HELP                                                   \
    }

#define FORA_CLI_COMMON_HELP                                                                       \
    "Common options:\n"                                                                            \
    "  --database-url URL  libpq connection string (env FORA_DATABASE_URL);\n"                     \
    "                      without it fora runs its own PostgreSQL cluster\n"                      \
    "  --data-dir DIR      where that cluster lives (env FORA_DATA_DIR, ./var)\n"                  \
    "  --quiet             no progress output\n"                                                   \
    "  --help              this text\n"

/*
 * Handles a common option `c` (from getopt_long) into cli.  Returns 1 when it
 * was one, 0 when it is the subcommand's own, -1 for --help (usage printed).
 */
int fora_cli_common(fora_cli_t *cli, int c, const char *usage);

/* Prints "fora: MESSAGE" for a failed command and returns its exit code. */
int fora_cli_fail(const fora_diag_t *diag);
/* Prints doc to stdout with Jansson `flags` and a newline, flushed; EIO (naming stdout) on failure.
 */
fora_err_t fora_cli_print_json(const json_t *doc, size_t flags, fora_diag_t *diag);
/* Prints a usage error and returns 2. */
int fora_cli_usage_error(const char *cmd, const char *fmt, ...) FORA_PRINTF(2, 3);

/* Parses a whole number option; false (message printed) when it is not one. */
bool fora_cli_parse_int(const char *cmd, const char *opt, const char *s, long long min,
                        long long max, long long *out);

/* Connects, and checks the schema is current (hint: run `fora migrate`). */
fora_err_t fora_cli_connect(const fora_cli_t *cli, bool need_schema, PGconn **conn,
                            fora_diag_t *diag);

int fora_cmd_db(int argc, char **argv);
int fora_cmd_migrate(int argc, char **argv);
int fora_cmd_import(int argc, char **argv);
int fora_cmd_convert(int argc, char **argv);
int fora_cmd_synth(int argc, char **argv);
int fora_cmd_recompute(int argc, char **argv);
int fora_cmd_serve(int argc, char **argv);
int fora_cmd_show(int argc, char **argv);
int fora_cmd_survival(int argc, char **argv);
int fora_cmd_token(int argc, char **argv);
int fora_cmd_worker(int argc, char **argv);

/* A new random API token, "fora_" + 40 hex digits (EIO without kernel randomness). */
fora_err_t fora_token_generate(char out[46]);
int fora_cmd_longevity(int argc, char **argv);
int fora_cmd_trajectories(int argc, char **argv);
int fora_cmd_link(int argc, char **argv);

#endif /* FORA_CLI_H */
