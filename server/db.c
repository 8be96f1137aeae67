/*
 * server/db.c - connections, the embedded PostgreSQL cluster, migrations.
 *
 * The embedded cluster lives in DATA_DIR:
 *   DATA_DIR/pgdata/        the cluster (initdb)
 *   DATA_DIR/run/           its Unix socket (the only listener by default)
 *   DATA_DIR/postgres.log   server log
 *   DATA_DIR/fora.lock      flock()ed while starting or stopping, so that
 *                           concurrent fora processes do not race
 * initdb and pg_ctl run as the "postgres" account when fora runs as root.
 */
#include "fora/db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EMBEDDED_DBNAME "fora"
#define EMBEDDED_USER "fora"
#define EMBEDDED_PORT 5432 /* names the socket file when no TCP port is asked for */
#define SOCKET_PATH_MAX 107

void fora_dbconf_from_env(fora_dbconf_t *c)
{
    const char *url = getenv("FORA_DATABASE_URL");
    const char *dir = getenv("FORA_DATA_DIR");
    const char *port = getenv("FORA_PORT");
    c->url = (url && *url) ? url : NULL;
    c->data_dir = (dir && *dir) ? dir : NULL;
    c->port = port ? atoi(port) : 0;
}

bool fora_dbconf_embedded(const fora_dbconf_t *c)
{
    return c->url == NULL;
}

/* ---- paths ------------------------------------------------------------- */

typedef struct cluster_paths {
    char root[PATH_MAX]; /* absolute DATA_DIR */
    char pgdata[PATH_MAX];
    char run[PATH_MAX];
    char log[PATH_MAX];
    char lock[PATH_MAX];
    char bindir[PATH_MAX];
} cluster_paths_t;

static fora_err_t make_dir(const char *path, fora_diag_t *diag)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return fora_diag_set(diag, FORA_EIO, "could not create directory \"%s\": %s", path,
                             strerror(errno));
    return FORA_OK;
}

static void find_bindir(char *out, size_t len)
{
    const char *env = getenv("FORA_PG_BINDIR");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    /* Debian keeps the server binaries off PATH, per major version. */
    static const char *candidates[] = {"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
                                       "/usr/lib/postgresql/17/bin"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        char probe[PATH_MAX];
        snprintf(probe, sizeof(probe), "%s/pg_ctl", candidates[i]);
        if (access(probe, X_OK) == 0) {
            snprintf(out, len, "%s", candidates[i]);
            return;
        }
    }
    out[0] = '\0'; /* rely on PATH */
}

static fora_err_t cluster_paths(const fora_dbconf_t *c, bool create, cluster_paths_t *p,
                                fora_diag_t *diag)
{
    const char *dir = c->data_dir ? c->data_dir : "./var";
    fora_err_t err;

    if (create && (err = make_dir(dir, diag)) != FORA_OK) return err;
    if (realpath(dir, p->root) == NULL) {
        if (errno == ENOENT) {
            /* not created yet: report it as not running rather than failing */
            snprintf(p->root, sizeof(p->root), "%s", dir);
        } else {
            return fora_diag_set(diag, FORA_EIO, "could not resolve data directory \"%s\": %s", dir,
                                 strerror(errno));
        }
    }
    snprintf(p->pgdata, sizeof(p->pgdata), "%s/pgdata", p->root);
    snprintf(p->run, sizeof(p->run), "%s/run", p->root);
    snprintf(p->log, sizeof(p->log), "%s/postgres.log", p->root);
    snprintf(p->lock, sizeof(p->lock), "%s/fora.lock", p->root);
    if (strlen(p->run) + strlen("/.s.PGSQL.65535") > SOCKET_PATH_MAX)
        return fora_diag_set(diag, FORA_EINVAL,
                             "data directory \"%s\" is too long for a Unix socket path "
                             "(at most %d bytes with the socket name): set FORA_DATA_DIR to a "
                             "shorter path",
                             p->root, SOCKET_PATH_MAX);
    find_bindir(p->bindir, sizeof(p->bindir));
    return FORA_OK;
}

/* ---- running initdb / pg_ctl -------------------------------------------- */

/* The account the cluster runs as: ourselves, or "postgres" when we are root. */
static fora_err_t cluster_owner(uid_t *uid, gid_t *gid, fora_diag_t *diag)
{
    if (geteuid() != 0) {
        *uid = geteuid();
        *gid = getegid();
        return FORA_OK;
    }
    struct passwd *pw = getpwnam("postgres");
    if (pw == NULL)
        return fora_diag_set(diag, FORA_EEXTERNAL,
                             "running as root, but there is no \"postgres\" account to own the "
                             "embedded cluster (install postgresql-15, or run as another user)");
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return FORA_OK;
}

/* Appends the last `max` bytes of file `path` to buf. */
static void tail_file(const char *path, char *buf, size_t len, size_t max)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > (long)max)
            fseek(f, size - (long)max, SEEK_SET);
        else
            fseek(f, 0, SEEK_SET);
    }
    size_t used = strlen(buf);
    size_t n = fread(buf + used, 1, len - used - 1, f);
    buf[used + n] = '\0';
    fclose(f);
}

/*
 * Runs bindir/prog with argv (argv[0] is prog) as the cluster owner, output
 * appended to `log`.  *status gets the exit status (-1 when killed).
 */
static fora_err_t run_pg(const cluster_paths_t *p, const char *log, char *const argv[], int *status,
                         fora_diag_t *diag)
{
    uid_t uid = 0;
    gid_t gid = 0;
    fora_err_t err = cluster_owner(&uid, &gid, diag);
    if (err != FORA_OK) return err;

    char prog[PATH_MAX];
    if (p->bindir[0])
        snprintf(prog, sizeof(prog), "%s/%s", p->bindir, argv[0]);
    else
        snprintf(prog, sizeof(prog), "%s", argv[0]);

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return fora_diag_set(diag, FORA_EEXTERNAL, "fork failed: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            if (geteuid() == 0 && fchown(fd, uid, gid) != 0) _exit(126);
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        if (geteuid() == 0) {
            if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
        }
        if (chdir(p->root) != 0) {
            fprintf(stderr, "fora: the cluster's owner cannot enter \"%s\": %s\n", p->root,
                    strerror(errno));
            _exit(126);
        }
        execvp(prog, argv);
        fprintf(stderr, "fora: could not run \"%s\": %s\n", prog, strerror(errno));
        _exit(127);
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0) {
        if (errno != EINTR)
            return fora_diag_set(diag, FORA_EEXTERNAL, "waitpid failed: %s", strerror(errno));
    }
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return FORA_OK;
}

static fora_err_t pg_failed(const cluster_paths_t *p, const char *what, const char *log,
                            fora_diag_t *diag)
{
    char buf[700];
    snprintf(buf, sizeof(buf), "%s failed; end of %s: ", what, log);
    tail_file(log, buf, sizeof(buf), 400);
    (void)p;
    return fora_diag_set(diag, FORA_EEXTERNAL, "%s", buf);
}

static fora_err_t own_path(const char *path, fora_diag_t *diag)
{
    uid_t uid = 0;
    gid_t gid = 0;
    fora_err_t err = cluster_owner(&uid, &gid, diag);
    if (err != FORA_OK) return err;
    if (geteuid() == 0 && chown(path, uid, gid) != 0)
        return fora_diag_set(diag, FORA_EIO, "could not chown \"%s\": %s", path, strerror(errno));
    return FORA_OK;
}

/* Takes the cluster lock (exclusive flock); returns the fd or -1 with diag set. */
static int lock_cluster(const cluster_paths_t *p, fora_diag_t *diag)
{
    int fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fora_diag_set(diag, FORA_EIO, "could not open lock file \"%s\": %s", p->lock,
                      strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            fora_diag_set(diag, FORA_EIO, "could not lock \"%s\": %s", p->lock, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void unlock_cluster(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

/* pg_ctl status: 0 running, 3 not running, 4 no cluster. */
static fora_err_t cluster_state(const cluster_paths_t *p, int *state, fora_diag_t *diag)
{
    struct stat st;
    if (stat(p->pgdata, &st) != 0) {
        *state = 4;
        return FORA_OK;
    }
    char *argv[] = {"pg_ctl", "status", "-D", (char *)p->pgdata, NULL};
    char log[PATH_MAX];
    snprintf(log, sizeof(log), "%s/pg_ctl.log", p->root);
    return run_pg(p, log, argv, state, diag);
}

static fora_err_t cluster_initdb(const cluster_paths_t *p, fora_diag_t *diag)
{
    char log[PATH_MAX];
    int status;
    fora_err_t err;

    snprintf(log, sizeof(log), "%s/initdb.log", p->root);
    if ((err = make_dir(p->pgdata, diag)) != FORA_OK) return err;
    if ((err = own_path(p->pgdata, diag)) != FORA_OK) return err;
    chmod(p->pgdata, 0700);
    char *argv[] = {"initdb",
                    "-D",
                    (char *)p->pgdata,
                    "-U",
                    EMBEDDED_USER,
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    NULL};
    if ((err = run_pg(p, log, argv, &status, diag)) != FORA_OK) return err;
    if (status != 0) {
        /* leave no half-made cluster behind: the next start retries from scratch */
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->pgdata);
        if (system(cmd) != 0) { /* best effort */
        }
        return pg_failed(p, "initdb", log, diag);
    }
    /*
     * Settings for an analysis workload on one machine: shared buffers sized
     * to the machine (an eighth of its memory, 128 MB to 4 GB), larger WAL so
     * bulk imports do not checkpoint constantly, and asynchronous commit (a
     * crash may lose the last commits, never corrupt data).  The socket is
     * the owner's only: it trusts whoever connects, so no other local
     * account may reach it (root still can, as everywhere).
     */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    long long mb = pages > 0 && page > 0 ? (long long)pages / 1024 * page / 1024 / 8 : 128;
    if (mb < 128) mb = 128;
    if (mb > 4096) mb = 4096;
    char conf[PATH_MAX];
    snprintf(conf, sizeof(conf), "%s/postgresql.conf", p->pgdata);
    FILE *f = fopen(conf, "a");
    if (f == NULL)
        return fora_diag_set(diag, FORA_EIO, "could not append to \"%s\": %s", conf,
                             strerror(errno));
    fprintf(f,
            "\n# added by fora for its embedded cluster\n"
            "shared_buffers = %lldMB\n"
            "max_wal_size = 4GB\n"
            "synchronous_commit = off\n"
            "wal_level = minimal\n"
            "max_wal_senders = 0\n"
            "unix_socket_permissions = 0700\n",
            mb);
    if (fclose(f) != 0) return fora_diag_set(diag, FORA_EIO, "could not write \"%s\"", conf);
    return FORA_OK;
}

static fora_err_t cluster_start(const fora_dbconf_t *c, const cluster_paths_t *p, fora_diag_t *diag)
{
    char opts[PATH_MAX + 128];
    int status;
    fora_err_t err;

    if ((err = make_dir(p->run, diag)) != FORA_OK) return err;
    if ((err = own_path(p->run, diag)) != FORA_OK) return err;
    if (c->port > 0)
        snprintf(opts, sizeof(opts), "-k %s -c listen_addresses=127.0.0.1 -p %d", p->run, c->port);
    else
        snprintf(opts, sizeof(opts), "-k %s -c listen_addresses='' -p %d", p->run, EMBEDDED_PORT);
    char *argv[] = {"pg_ctl",          "start", "-w",           "-t", "120", "-D",
                    (char *)p->pgdata, "-l",    (char *)p->log, "-o", opts,  NULL};
    if ((err = own_path(p->root, diag)) != FORA_OK) return err;
    /* the log must be writable by the owner; pg_ctl creates it */
    char ctl_log[PATH_MAX];
    snprintf(ctl_log, sizeof(ctl_log), "%s/pg_ctl.log", p->root);
    if ((err = run_pg(p, ctl_log, argv, &status, diag)) != FORA_OK) return err;
    if (status != 0) {
        char buf[FORA_DIAG_MAX - 64] = "";
        tail_file(p->log, buf, sizeof(buf), 500);
        return fora_diag_set(diag, FORA_EEXTERNAL, "pg_ctl start failed; end of %s: %s", p->log,
                             buf);
    }
    return FORA_OK;
}

static int socket_port(const fora_dbconf_t *c)
{
    return c->port > 0 ? c->port : EMBEDDED_PORT;
}

fora_err_t fora_db_conninfo(const fora_dbconf_t *c, const char *dbname, char *buf, size_t len,
                            fora_diag_t *diag)
{
    int n;
    if (!fora_dbconf_embedded(c)) {
        if (dbname)
            n = snprintf(buf, len, "%s dbname=%s", c->url, dbname);
        else
            n = snprintf(buf, len, "%s", c->url);
    } else {
        cluster_paths_t p;
        fora_err_t err = cluster_paths(c, false, &p, diag);
        if (err != FORA_OK) return err;
        n = snprintf(buf, len, "host=%s port=%d user=%s dbname=%s", p.run, socket_port(c),
                     EMBEDDED_USER, dbname ? dbname : EMBEDDED_DBNAME);
    }
    if (n < 0 || (size_t)n >= len)
        return fora_diag_set(diag, FORA_EINVAL, "connection string too long");
    return FORA_OK;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static fora_err_t connect_to(const char *conninfo, PGconn **out, fora_diag_t *diag)
{
    char full[2048];
    snprintf(full, sizeof(full), "%s application_name=fora", conninfo);
    PGconn *conn = PQconnectdb(full);
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[FORA_DIAG_MAX / 2];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
        msg[strcspn(msg, "\n")] = '\0';
        PQfinish(conn);
        *out = NULL;
        return fora_diag_set(diag, FORA_EDB, "could not connect to the database: %s", msg);
    }
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    *out = conn;
    return FORA_OK;
}

static fora_err_t ensure_database(const fora_dbconf_t *c, fora_diag_t *diag)
{
    char info[1024];
    PGconn *conn = NULL;
    PGresult *res = NULL;
    fora_err_t err;

    if ((err = fora_db_conninfo(c, "postgres", info, sizeof(info), diag)) != FORA_OK) return err;
    if ((err = connect_to(info, &conn, diag)) != FORA_OK) return err;
    res = PQexec(conn, "SELECT 1 FROM pg_database WHERE datname = '" EMBEDDED_DBNAME "'");
    if ((err = fora_db_check(res, PGRES_TUPLES_OK, "looking up the database", diag)) != FORA_OK)
        goto out;
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = PQexec(conn, "CREATE DATABASE " EMBEDDED_DBNAME);
        /* a concurrent fora process may have created it first: that is fine */
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            if (state == NULL || strcmp(state, "42P04") != 0)
                err = fora_db_check(res, PGRES_COMMAND_OK, "creating the database", diag);
        }
    }
out:
    PQclear(res);
    PQfinish(conn);
    return err;
}

fora_err_t fora_db_start(const fora_dbconf_t *c, fora_diag_t *diag)
{
    cluster_paths_t p;
    int state, lockfd = -1;
    fora_err_t err;

    if (!fora_dbconf_embedded(c))
        return fora_diag_set(diag, FORA_EINVAL,
                             "FORA_DATABASE_URL names an external server: fora does not manage "
                             "it (unset it to use the embedded cluster)");
    if ((err = cluster_paths(c, true, &p, diag)) != FORA_OK) return err;
    if ((lockfd = lock_cluster(&p, diag)) < 0) return diag->code;
    if ((err = cluster_state(&p, &state, diag)) != FORA_OK) goto out;
    if (state == 4) {
        if (!c->quiet) fprintf(stderr, "fora: creating database cluster in %s\n", p.pgdata);
        if ((err = cluster_initdb(&p, diag)) != FORA_OK) goto out;
        state = 3;
    }
    if (state != 0) {
        if (!c->quiet) fprintf(stderr, "fora: starting PostgreSQL (socket in %s)\n", p.run);
        if ((err = cluster_start(c, &p, diag)) != FORA_OK) goto out;
    }
    err = ensure_database(c, diag);
out:
    unlock_cluster(lockfd);
    return err;
}

fora_err_t fora_db_stop(const fora_dbconf_t *c, fora_diag_t *diag)
{
    cluster_paths_t p;
    int state, status, lockfd = -1;
    fora_err_t err;

    if (!fora_dbconf_embedded(c))
        return fora_diag_set(diag, FORA_EINVAL,
                             "FORA_DATABASE_URL names an external server: fora does not manage it");
    if ((err = cluster_paths(c, false, &p, diag)) != FORA_OK) return err;
    struct stat st;
    if (stat(p.root, &st) != 0) return FORA_OK; /* nothing was ever started */
    if ((lockfd = lock_cluster(&p, diag)) < 0) return diag->code;
    if ((err = cluster_state(&p, &state, diag)) != FORA_OK || state != 0) goto out;
    char ctl_log[PATH_MAX];
    snprintf(ctl_log, sizeof(ctl_log), "%s/pg_ctl.log", p.root);
    char *argv[] = {"pg_ctl", "stop", "-w", "-t", "120", "-m", "fast", "-D", p.pgdata, NULL};
    if ((err = run_pg(&p, ctl_log, argv, &status, diag)) != FORA_OK) goto out;
    if (status != 0) err = pg_failed(&p, "pg_ctl stop", ctl_log, diag);
out:
    unlock_cluster(lockfd);
    return err;
}

fora_err_t fora_db_status(const fora_dbconf_t *c, bool *running, char *conninfo, size_t len,
                          fora_diag_t *diag)
{
    fora_err_t err;
    *running = false;
    if ((err = fora_db_conninfo(c, NULL, conninfo, len, diag)) != FORA_OK) return err;
    if (fora_dbconf_embedded(c)) {
        cluster_paths_t p;
        int state;
        if ((err = cluster_paths(c, false, &p, diag)) != FORA_OK) return err;
        if ((err = cluster_state(&p, &state, diag)) != FORA_OK) return err;
        *running = state == 0;
        return FORA_OK;
    }
    *running = PQping(conninfo) == PQPING_OK;
    return FORA_OK;
}

fora_err_t fora_db_connect(const fora_dbconf_t *c, PGconn **out, fora_diag_t *diag)
{
    char info[1024];
    fora_err_t err;

    *out = NULL;
    if (fora_dbconf_embedded(c)) {
        /* cheap when it is already up: try first, start only when that fails */
        if ((err = fora_db_conninfo(c, NULL, info, sizeof(info), diag)) != FORA_OK) return err;
        if (PQping(info) != PQPING_OK && (err = fora_db_start(c, diag)) != FORA_OK) return err;
    } else if ((err = fora_db_conninfo(c, NULL, info, sizeof(info), diag)) != FORA_OK) {
        return err;
    }
    fora_diag_t sub = FORA_DIAG_INIT;
    err = connect_to(info, out, &sub);
    if (err != FORA_OK && fora_dbconf_embedded(c)) {
        /* the cluster is up but the database may be missing */
        fora_diag_clear(&sub);
        if ((err = ensure_database(c, diag)) != FORA_OK) return err;
        err = connect_to(info, out, &sub);
    }
    if (err != FORA_OK) return fora_diag_set(diag, err, "%s", sub.msg);
    return FORA_OK;
}

/* ---- statements --------------------------------------------------------- */

fora_err_t fora_db_check(const PGresult *res, ExecStatusType expect, const char *what,
                         fora_diag_t *diag)
{
    if (res != NULL && PQresultStatus(res) == expect) return FORA_OK;
    if (res == NULL) return fora_diag_set(diag, FORA_EDB, "%s: no result (connection lost?)", what);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    fora_err_t code = FORA_EDB;
    if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0))
        code = FORA_ESCHEMA; /* undefined table or column: migrations missing */
    else if (state && strcmp(state, "57014") == 0)
        code = FORA_ETIMEOUT; /* query_canceled: statement_timeout (or a cancel) */
    if (msg == NULL) msg = PQresStatus(PQresultStatus(res));
    if (detail) return fora_diag_set(diag, code, "%s: %s (%s)", what, msg, detail);
    return fora_diag_set(diag, code, "%s: %s", what, msg);
}

fora_err_t fora_db_exec(PGconn *conn, const char *sql, fora_diag_t *diag)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    fora_err_t err = FORA_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char what[96];
        snprintf(what, sizeof(what), "%.80s", sql);
        err = fora_db_check(res, PGRES_COMMAND_OK, what, diag);
    }
    PQclear(res);
    return err;
}

/* ---- migrations --------------------------------------------------------- */

const char *fora_migrations_dir(void)
{
    const char *env = getenv("FORA_MIGRATIONS_DIR");
    if (env && *env) return env;
#ifdef FORA_SOURCE_DIR
    return FORA_SOURCE_DIR "/migrations";
#else
    return "migrations";
#endif
}

typedef struct migration {
    int version;
    char name[256];
} migration_t;

static int cmp_migration(const void *a, const void *b)
{
    return ((const migration_t *)a)->version - ((const migration_t *)b)->version;
}

/* Lists NNNN_name.sql files of dir, sorted by version. */
static fora_err_t list_migrations(const char *dir, migration_t **out, int *n, fora_diag_t *diag)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return fora_diag_set(diag, FORA_ENOTFOUND, "could not open migrations directory \"%s\": %s",
                             dir, strerror(errno));
    migration_t *list = NULL;
    int count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 10 || len >= sizeof(list->name) || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        bool digits = true;
        for (int i = 0; i < 4; i++)
            digits = digits && e->d_name[i] >= '0' && e->d_name[i] <= '9';
        if (!digits || e->d_name[4] != '_') continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            list = fora_xrealloc(list, (size_t)cap * sizeof(*list));
        }
        list[count].version = atoi(e->d_name);
        snprintf(list[count].name, sizeof(list[count].name), "%s", e->d_name);
        count++;
    }
    closedir(d);
    qsort(list, (size_t)count, sizeof(*list), cmp_migration);
    for (int i = 1; i < count; i++)
        if (list[i].version == list[i - 1].version) {
            fora_diag_set(diag, FORA_EINVAL, "two migrations share version %04d: \"%s\" and \"%s\"",
                          list[i].version, list[i - 1].name, list[i].name);
            free(list);
            return FORA_EINVAL;
        }
    *out = list;
    *n = count;
    return FORA_OK;
}

static char *read_file(const char *path, fora_diag_t *diag)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fora_diag_set(diag, FORA_EIO, "could not read \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 8192, len = 0;
    char *buf = fora_xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) buf = fora_xrealloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

#define MIGRATION_LOCK_KEY "7465737400" /* any constant: serialises concurrent migrators */

static fora_err_t applied_versions(PGconn *conn, PGresult **out, fora_diag_t *diag)
{
    PGresult *res = PQexec(conn, "SELECT version FROM schema_migrations ORDER BY version");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "42P01") == 0) { /* no table yet: nothing applied */
            PQclear(res);
            *out = NULL;
            return FORA_OK;
        }
        fora_err_t err = fora_db_check(res, PGRES_TUPLES_OK, "reading schema_migrations", diag);
        PQclear(res);
        return err;
    }
    *out = res;
    return FORA_OK;
}

static bool version_in(const PGresult *res, int version)
{
    if (res == NULL) return false;
    for (int i = 0; i < PQntuples(res); i++)
        if (atoi(PQgetvalue(res, i, 0)) == version) return true;
    return false;
}

fora_err_t fora_migrate_pending(PGconn *conn, const char *dir, int *pending, fora_diag_t *diag)
{
    migration_t *list = NULL;
    int n = 0;
    PGresult *res = NULL;
    fora_err_t err;

    *pending = 0;
    if ((err = list_migrations(dir, &list, &n, diag)) != FORA_OK) return err;
    if ((err = applied_versions(conn, &res, diag)) != FORA_OK) goto out;
    for (int i = 0; i < n; i++)
        if (!version_in(res, list[i].version)) (*pending)++;
    for (int i = 0; res && i < PQntuples(res); i++) {
        int v = atoi(PQgetvalue(res, i, 0));
        bool known = false;
        for (int j = 0; j < n && !known; j++)
            known = list[j].version == v;
        if (!known) {
            err = fora_diag_set(diag, FORA_ESCHEMA,
                                "the database has migration %04d, which this fora does not know "
                                "(the binary is older than the schema)",
                                v);
            goto out;
        }
    }
out:
    PQclear(res);
    free(list);
    return err;
}

fora_err_t fora_migrate(PGconn *conn, const char *dir, bool quiet, int *applied, fora_diag_t *diag)
{
    migration_t *list = NULL;
    int n = 0, count = 0;
    PGresult *res = NULL;
    char *sql = NULL;
    fora_err_t err;

    if ((err = list_migrations(dir, &list, &n, diag)) != FORA_OK) return err;
    if ((err = fora_db_exec(conn,
                            "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            " version integer PRIMARY KEY,"
                            " name text NOT NULL,"
                            " applied_at timestamptz NOT NULL DEFAULT now())",
                            diag)) != FORA_OK)
        goto out;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], version[16];
        const char *params[2];

        if ((err = fora_db_exec(conn, "BEGIN", diag)) != FORA_OK) goto out;
        /* re-read under the lock: another process may have applied it meanwhile */
        if ((err = fora_db_exec(conn, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")",
                                diag)) != FORA_OK)
            goto rollback;
        PQclear(res);
        if ((err = applied_versions(conn, &res, diag)) != FORA_OK) goto rollback;
        if (version_in(res, list[i].version)) {
            if ((err = fora_db_exec(conn, "COMMIT", diag)) != FORA_OK) goto out;
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, list[i].name);
        free(sql);
        if ((sql = read_file(path, diag)) == NULL) {
            err = diag->code;
            goto rollback;
        }
        PGresult *r = PQexec(conn, sql);
        char what[300];
        snprintf(what, sizeof(what), "migration \"%s\"", list[i].name);
        err = fora_db_check(
            r, PQresultStatus(r) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK, what,
            diag);
        PQclear(r);
        if (err != FORA_OK) goto rollback;
        snprintf(version, sizeof(version), "%d", list[i].version);
        params[0] = version;
        params[1] = list[i].name;
        r = PQexecParams(conn, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                         NULL, params, NULL, NULL, 0);
        err = fora_db_check(r, PGRES_COMMAND_OK, "recording the migration", diag);
        PQclear(r);
        if (err != FORA_OK) goto rollback;
        if ((err = fora_db_exec(conn, "COMMIT", diag)) != FORA_OK) goto out;
        count++;
        if (!quiet) fprintf(stderr, "fora: applied migration %s\n", list[i].name);
    }
    goto out;
rollback:
    PQclear(PQexec(conn, "ROLLBACK"));
out:
    if (applied) *applied = count;
    PQclear(res);
    free(sql);
    free(list);
    return err;
}
