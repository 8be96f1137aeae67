/*
 * server/csv.c - streaming RFC 4180 CSV reader and writer over zlib.
 *
 * The reader keeps a block buffer filled by gzread() and a record buffer into
 * which the current record's fields are unescaped; fields point into it.
 */
#include "fora/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK_SIZE (1 << 18)
#define MAX_RECORD (1 << 20)
#define MAX_FIELDS 256

struct fora_csv_reader {
    gzFile gz;
    char *path;
    char *block;      /* raw input */
    size_t block_len; /* bytes valid in block */
    size_t block_pos; /* next unread byte */
    bool eof;
    char *rec; /* unescaped fields, each NUL-terminated */
    size_t rec_cap;
    char *fields[MAX_FIELDS];
    size_t lens[MAX_FIELDS];
    int64_t line; /* physical line of the next unread byte (1-based) */
};

struct fora_csv_writer {
    gzFile gz; /* used for both plain and compressed output */
    char *path;
};

fora_err_t fora_csv_open(const char *path, fora_csv_reader_t **out, fora_diag_t *diag)
{
    *out = NULL;
    gzFile gz = gzopen(path, "rb");
    if (gz == NULL) {
        if (errno == ENOENT)
            return fora_diag_set(diag, FORA_ENOTFOUND, "could not open \"%s\": no such file", path);
        return fora_diag_set(diag, FORA_EIO, "could not open \"%s\": %s", path, strerror(errno));
    }
    gzbuffer(gz, BLOCK_SIZE);
    fora_csv_reader_t *r = fora_xcalloc(1, sizeof(*r));
    r->gz = gz;
    r->path = fora_xstrdup(path);
    r->block = fora_xmalloc(BLOCK_SIZE);
    r->rec_cap = 4096;
    r->rec = fora_xmalloc(r->rec_cap);
    r->line = 1;
    *out = r;
    return FORA_OK;
}

const char *fora_csv_path(const fora_csv_reader_t *r)
{
    return r->path;
}

int64_t fora_csv_offset(const fora_csv_reader_t *r)
{
    return (int64_t)gzoffset(r->gz);
}

void fora_csv_close(fora_csv_reader_t *r)
{
    if (r == NULL) return;
    gzclose(r->gz);
    free(r->path);
    free(r->block);
    free(r->rec);
    free(r);
}

/* Returns the next byte, or -1 at end of input, -2 on a read error. */
static int next_byte(fora_csv_reader_t *r)
{
    if (r->block_pos == r->block_len) {
        if (r->eof) return -1;
        int n = gzread(r->gz, r->block, BLOCK_SIZE);
        if (n < 0) return -2;
        if (n == 0) {
            r->eof = true;
            return -1;
        }
        r->block_len = (size_t)n;
        r->block_pos = 0;
    }
    return (unsigned char)r->block[r->block_pos++];
}

static void put_byte(fora_csv_reader_t *r, size_t *len, char c)
{
    if (*len + 1 >= r->rec_cap) {
        r->rec_cap *= 2;
        r->rec = fora_xrealloc(r->rec, r->rec_cap);
    }
    r->rec[(*len)++] = c;
}

fora_err_t fora_csv_next(fora_csv_reader_t *r, size_t *nfields, char ***fields, size_t **lens,
                         int64_t *line, fora_diag_t *diag)
{
    size_t len = 0; /* bytes used in r->rec */
    size_t nf = 0;
    size_t starts[MAX_FIELDS];
    bool quoted = false;     /* inside a quoted field */
    bool was_quoted = false; /* current field began with a quote */
    int64_t start_line = r->line;
    int c;

    c = next_byte(r);
    if (c == -1) return FORA_ENOTFOUND;
    starts[0] = 0;
    for (;;) {
        if (c == -2)
            return fora_diag_set(diag, FORA_EIO, "%s:%lld: read error (corrupt gzip data?)",
                                 r->path, (long long)r->line);
        if (len > MAX_RECORD)
            return fora_diag_set(diag, FORA_ETOOLARGE, "%s:%lld: record longer than %d bytes",
                                 r->path, (long long)start_line, MAX_RECORD);
        if (quoted) {
            if (c == -1)
                return fora_diag_set(diag, FORA_EPARSE, "%s:%lld: unterminated quoted field",
                                     r->path, (long long)start_line);
            if (c == '"') {
                int d = next_byte(r);
                if (d == '"') {
                    put_byte(r, &len, '"');
                } else {
                    quoted = false;
                    c = d;
                    if (c != ',' && c != '\n' && c != '\r' && c != -1 && c != -2)
                        return fora_diag_set(diag, FORA_EPARSE,
                                             "%s:%lld: field %zu: unexpected character after "
                                             "closing quote",
                                             r->path, (long long)r->line, nf + 1);
                    continue;
                }
            } else {
                if (c == '\n') r->line++;
                put_byte(r, &len, (char)c);
            }
            c = next_byte(r);
            continue;
        }
        if (c == ',' || c == '\n' || c == '\r' || c == -1) {
            put_byte(r, &len, '\0');
            r->lens[nf] = len - 1 - starts[nf];
            nf++;
            if (c == ',') {
                if (nf == MAX_FIELDS)
                    return fora_diag_set(diag, FORA_ETOOLARGE, "%s:%lld: more than %d fields",
                                         r->path, (long long)start_line, MAX_FIELDS);
                starts[nf] = len;
                was_quoted = false;
                c = next_byte(r);
                continue;
            }
            if (c == '\r') {
                int d = next_byte(r);
                if (d != '\n' && d >= 0) r->block_pos--; /* lone CR ends the record too */
            }
            if (c != -1) r->line++;
            break;
        }
        if (c == '"') {
            if (len != starts[nf] || was_quoted)
                return fora_diag_set(diag, FORA_EPARSE,
                                     "%s:%lld: field %zu: quote inside an unquoted field", r->path,
                                     (long long)r->line, nf + 1);
            quoted = true;
            was_quoted = true;
        } else {
            put_byte(r, &len, (char)c);
        }
        c = next_byte(r);
    }
    for (size_t i = 0; i < nf; i++)
        r->fields[i] = r->rec + starts[i];
    *nfields = nf;
    *fields = r->fields;
    *lens = r->lens;
    *line = start_line;
    return FORA_OK;
}

fora_err_t fora_csv_create(const char *path, fora_csv_writer_t **out, fora_diag_t *diag)
{
    size_t n = strlen(path);
    bool gz = n > 3 && strcmp(path + n - 3, ".gz") == 0;
    *out = NULL;
    gzFile f = gzopen(path, gz ? "wb6" : "wbT");
    if (f == NULL)
        return fora_diag_set(diag, FORA_EIO, "could not create \"%s\": %s", path, strerror(errno));
    gzbuffer(f, BLOCK_SIZE);
    fora_csv_writer_t *w = fora_xcalloc(1, sizeof(*w));
    w->gz = f;
    w->path = fora_xstrdup(path);
    *out = w;
    return FORA_OK;
}

fora_err_t fora_csv_write(fora_csv_writer_t *w, size_t n, const char *const *fields,
                          fora_diag_t *diag)
{
    for (size_t i = 0; i < n; i++) {
        const char *f = fields[i] ? fields[i] : "";
        if (i > 0 && gzputc(w->gz, ',') < 0) goto fail;
        if (strpbrk(f, ",\"\r\n") == NULL) {
            if (*f && gzputs(w->gz, f) < 0) goto fail;
            continue;
        }
        if (gzputc(w->gz, '"') < 0) goto fail;
        for (const char *p = f; *p; p++) {
            if (*p == '"' && gzputc(w->gz, '"') < 0) goto fail;
            if (gzputc(w->gz, *p) < 0) goto fail;
        }
        if (gzputc(w->gz, '"') < 0) goto fail;
    }
    if (gzputc(w->gz, '\n') < 0) goto fail;
    return FORA_OK;
fail:
    return fora_diag_set(diag, FORA_EIO, "could not write \"%s\"", w->path);
}

fora_err_t fora_csv_finish(fora_csv_writer_t *w, fora_diag_t *diag)
{
    fora_err_t err = FORA_OK;
    if (w == NULL) return FORA_OK;
    if (gzclose(w->gz) != Z_OK)
        err = fora_diag_set(diag, FORA_EIO, "could not finish writing \"%s\"", w->path);
    free(w->path);
    free(w);
    return err;
}
