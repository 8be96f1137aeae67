/*
 * server/main.c - the `fora` binary: dispatches to a subcommand.
 *
 * Process-wide set-up happens here and only here: igraph's and GSL's default
 * error handlers abort(), so both are replaced before any command runs
 * (c-style.md practice 6).
 */
#include <gsl/gsl_errno.h>
#include <igraph.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"db", fora_cmd_db, "start, stop or inspect the embedded PostgreSQL cluster"},
    {"migrate", fora_cmd_migrate, "apply database migrations"},
    {"import", fora_cmd_import, "import a CSV bundle or a Stack Exchange dump"},
    {"convert", fora_cmd_convert, "convert a Stack Exchange dump into a CSV bundle"},
    {"synth", fora_cmd_synth, "generate a synthetic forum with planted ground truth"},
    {"recompute", fora_cmd_recompute, "run a forum's analyses as a new analysis run"},
    {"serve", fora_cmd_serve, "serve the HTTP API"},
    {"show", fora_cmd_show, "print the JSON of an API route, without a server"},
    {"longevity", fora_cmd_longevity, "write member or thread longevity observations as CSV"},
    {"survival", fora_cmd_survival,
     "Kaplan-Meier estimates and log-rank test for a time,event[,group] CSV"},
    {"token", fora_cmd_token, "create, list or revoke API tokens"},
    {"worker", fora_cmd_worker, "run queued recompute jobs"},
    {"trajectories", fora_cmd_trajectories,
     "group-based trajectory models of a members x periods count CSV"},
    {"link", fora_cmd_link,
     "link accounts by structure and timing: evaluation, similar members, pairs across forums"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: fora COMMAND [options]   (fora COMMAND --help for details)\n\n"
                 "fora analyses forum interaction graphs and member trajectories from\n"
                 "structural metadata only.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nEnvironment: FORA_DATABASE_URL (libpq connection string; unset: embedded\n"
                 "cluster), FORA_DATA_DIR (embedded cluster folder, default ./var).\n");
}

static void igraph_warning_to_stderr(const char *reason, const char *file, int line)
{
    fprintf(stderr, "fora: igraph warning: %s (%s:%d)\n", reason, file, line);
}

int main(int argc, char **argv)
{
    /* log igraph errors and unwind its finally stack instead of aborting */
    igraph_set_error_handler(igraph_error_handler_printignore);
    igraph_set_warning_handler(igraph_warning_to_stderr);
    gsl_set_error_handler_off();

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("fora %s\n", FORA_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "fora: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
