/*
 * tests/unit/test_csv.c - the CSV reader's RFC 4180 cases and line numbers,
 * and a write/read round trip through gzip.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fora/csv.h"
#include "fora_test.h"

static char path[64];

static fora_csv_reader_t *open_text(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/fora-csv-XXXXXX");
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    fora_csv_reader_t *r;
    fora_diag_t diag = FORA_DIAG_INIT;
    ASSERT_OK(fora_csv_open(path, &r, &diag), &diag);
    return r;
}

static void test_quoting_and_lines(void)
{
    fora_csv_reader_t *r = open_text("a,b,c\r\n\"x,1\",\"he said \"\"hi\"\"\",\n"
                                     "\"multi\nline\",2,3\nlast,,\"\"");
    fora_diag_t diag = FORA_DIAG_INIT;
    size_t n, *lens;
    char **f;
    int64_t line;
    ASSERT_OK(fora_csv_next(r, &n, &f, &lens, &line, &diag), &diag);
    ASSERT_EQ(n, 3);
    ASSERT_EQ(line, 1);
    ASSERT_STR_EQ(f[2], "c");
    ASSERT_OK(fora_csv_next(r, &n, &f, &lens, &line, &diag), &diag);
    ASSERT_EQ(line, 2);
    ASSERT_STR_EQ(f[0], "x,1");
    ASSERT_STR_EQ(f[1], "he said \"hi\"");
    ASSERT_STR_EQ(f[2], "");
    ASSERT_OK(fora_csv_next(r, &n, &f, &lens, &line, &diag), &diag);
    ASSERT_EQ(line, 3);
    ASSERT_STR_EQ(f[0], "multi\nline");
    ASSERT_EQ(lens[0], 10);
    ASSERT_OK(fora_csv_next(r, &n, &f, &lens, &line, &diag), &diag);
    ASSERT_EQ(line, 5); /* the quoted newline moved it on */
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(f[0], "last");
    ASSERT_STR_EQ(f[2], "");
    ASSERT_EQ(fora_csv_next(r, &n, &f, &lens, &line, &diag), FORA_ENOTFOUND);
    fora_csv_close(r);
    unlink(path);
}

static void test_errors(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    size_t n, *lens;
    char **f;
    int64_t line;
    fora_csv_reader_t *r = open_text("a,b\nx,\"open\n");
    ASSERT_OK(fora_csv_next(r, &n, &f, &lens, &line, &diag), &diag);
    ASSERT_EQ(fora_csv_next(r, &n, &f, &lens, &line, &diag), FORA_EPARSE);
    ASSERT(strstr(diag.msg, ":2: unterminated quoted field") != NULL);
    fora_csv_close(r);
    unlink(path);

    fora_diag_clear(&diag);
    r = open_text("a\"b,c\n");
    ASSERT_EQ(fora_csv_next(r, &n, &f, &lens, &line, &diag), FORA_EPARSE);
    ASSERT(strstr(diag.msg, ":1: field 1: quote inside an unquoted field") != NULL);
    fora_csv_close(r);
    unlink(path);

    fora_diag_clear(&diag);
    r = open_text("\"a\"b,c\n");
    ASSERT_EQ(fora_csv_next(r, &n, &f, &lens, &line, &diag), FORA_EPARSE);
    ASSERT(strstr(diag.msg, "after closing quote") != NULL);
    fora_csv_close(r);
    unlink(path);

    fora_diag_clear(&diag);
    ASSERT_EQ(fora_csv_open("/nonexistent/x.csv", &r, &diag), FORA_ENOTFOUND);
    ASSERT(strstr(diag.msg, "/nonexistent/x.csv") != NULL);
}

static void test_gzip_round_trip(void)
{
    fora_diag_t diag = FORA_DIAG_INIT;
    fora_csv_writer_t *w;
    char gz[64];
    snprintf(gz, sizeof(gz), "/tmp/fora-csv-%d.csv.gz", (int)getpid());
    ASSERT_OK(fora_csv_create(gz, &w, &diag), &diag);
    for (int i = 0; i < 20000; i++) {
        char a[16];
        snprintf(a, sizeof(a), "%d", i);
        const char *row[] = {a, "x,y", "q\"uote", NULL};
        ASSERT_OK(fora_csv_write(w, 4, row, &diag), &diag);
    }
    ASSERT_OK(fora_csv_finish(w, &diag), &diag);
    fora_csv_reader_t *r;
    ASSERT_OK(fora_csv_open(gz, &r, &diag), &diag);
    size_t n, *lens;
    char **f;
    int64_t line;
    for (int i = 0; i < 20000; i++) {
        ASSERT_OK(fora_csv_next(r, &n, &f, &lens, &line, &diag), &diag);
        ASSERT_EQ(n, 4);
        ASSERT_EQ(atoi(f[0]), i);
        ASSERT_EQ(line, i + 1);
        ASSERT_STR_EQ(f[1], "x,y");
        ASSERT_STR_EQ(f[2], "q\"uote");
        ASSERT_STR_EQ(f[3], "");
    }
    ASSERT_EQ(fora_csv_next(r, &n, &f, &lens, &line, &diag), FORA_ENOTFOUND);
    fora_csv_close(r);
    unlink(gz);
}

int main(void)
{
    FORA_RUN(test_quoting_and_lines);
    FORA_RUN(test_errors);
    FORA_RUN(test_gzip_round_trip);
    return 0;
}
