/*
 * fora/csv.h - streaming RFC 4180 CSV reading and writing, plain or gzip.
 *
 * The reader hands out one record at a time from a file read in large blocks
 * through zlib (which reads uncompressed files transparently), so files of
 * any size stream in constant memory.  It tracks the physical line number of
 * each record, so errors can name "file:line".  The writer quotes only fields
 * that need it and compresses when the path ends in ".gz".
 *
 * Ownership: _open allocates, _close frees; field pointers returned by
 * fora_csv_next() stay valid until the next call.
 * Thread safety: one thread per reader or writer.
 */
#ifndef FORA_CSV_H
#define FORA_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fora/error.h"

typedef struct fora_csv_reader fora_csv_reader_t;
typedef struct fora_csv_writer fora_csv_writer_t;

/* Opens `path` (plain or gzip).  ENOTFOUND if it does not exist, EIO otherwise. */
fora_err_t fora_csv_open(const char *path, fora_csv_reader_t **out,
                         fora_diag_t *diag) FORA_MUST_CHECK;

/*
 * Reads the next record.  On success *nfields and *fields describe it (each
 * field NUL-terminated; *lens gives lengths) and *line is the line on which it
 * started.  Returns FORA_OK, or ENOTFOUND at end of file (nothing in diag), or
 * EPARSE for an unterminated quote or a stray quote (diag names file:line), or
 * ETOOLARGE for a record over 1 MiB or over 256 fields.
 */
fora_err_t fora_csv_next(fora_csv_reader_t *r, size_t *nfields, char ***fields, size_t **lens,
                         int64_t *line, fora_diag_t *diag) FORA_MUST_CHECK;

/* Bytes of the underlying file consumed so far (compressed bytes for gzip). */
int64_t fora_csv_offset(const fora_csv_reader_t *r);
/* The path the reader was opened with. */
const char *fora_csv_path(const fora_csv_reader_t *r);
void fora_csv_close(fora_csv_reader_t *r);

/* Creates `path`, gzip-compressed when it ends in ".gz". */
fora_err_t fora_csv_create(const char *path, fora_csv_writer_t **out,
                           fora_diag_t *diag) FORA_MUST_CHECK;
/* Writes one record of n fields; a NULL field is written empty. */
fora_err_t fora_csv_write(fora_csv_writer_t *w, size_t n, const char *const *fields,
                          fora_diag_t *diag) FORA_MUST_CHECK;
/* Flushes and closes; reports a failed final write.  w may be NULL. */
fora_err_t fora_csv_finish(fora_csv_writer_t *w, fora_diag_t *diag);

#endif /* FORA_CSV_H */
