/*
 * fsutil.c - file helpers. The atomic write follows the usual POSIX recipe: write a temporary
 * file beside the target, fsync it, rename(2) it over the target (atomic within a file system),
 * then fsync the directory so that the rename itself survives a crash. A process killed between
 * the create and the rename leaves its temporary file ("NAME.tmp.PID"); the next atomic write in
 * that directory removes the ones whose process no longer exists (kill(PID, 0) fails with ESRCH),
 * so a live writer's file is never touched.
 */
#define _POSIX_C_SOURCE 200809L

#include "base/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

tr_code tr_file_read(const char *path, char **data, size_t *len, tr_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tr_fail(err, errno == ENOENT ? TR_ERR_NOTFOUND : TR_ERR_IO, "%s: cannot open: %s",
                       path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return tr_fail(err, TR_ERR_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return tr_fail(err, TR_ERR_NOMEM, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f) || got != n;
    fclose(f);
    if (bad) {
        free(buf);
        return tr_fail(err, TR_ERR_IO, "%s: read %zu of %zu bytes", path, got, n);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return TR_OK;
}

/* The directory part of path ("." when there is none) into buf. */
static void dir_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, size, ".");
    } else if (slash == path) {
        snprintf(buf, size, "/");
    } else {
        snprintf(buf, size, "%.*s", (int)(slash - path), path);
    }
}

/* The PID of a temporary name "NAME.tmp.PID", or 0 when name is not one. */
static long tmp_pid(const char *name)
{
    const char *p = NULL;
    for (const char *q = strstr(name, ".tmp."); q; q = strstr(q + 1, ".tmp."))
        p = q;
    if (!p || p == name)
        return 0;
    p += 5;
    long pid = 0;
    if (*p < '1' || *p > '9')
        return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || pid > 99999999L)
            return 0;
        pid = pid * 10 + (*p - '0');
    }
    return pid;
}

size_t tr_tmp_sweep_dead(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0;
    long self = (long)getpid();
    struct dirent *ent;
    char path[4400];
    while ((ent = readdir(d)) != NULL) {
        long pid = tmp_pid(ent->d_name);
        if (pid <= 0 || pid == self)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge (EPERM: alive under another user) */
        if (snprintf(path, sizeof path, "%s/%s", dir, ent->d_name) >= (int)sizeof path)
            continue;
        removed += unlink(path) == 0;
    }
    closedir(d);
    return removed;
}

size_t tr_tmp_remove_all(const char *path)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0;
    struct dirent *ent;
    char full[4400];
    while ((ent = readdir(d)) != NULL) {
        if (strncmp(ent->d_name, base, blen) != 0 || strncmp(ent->d_name + blen, ".tmp.", 5) != 0)
            continue;
        if (snprintf(full, sizeof full, "%s/%s", dir, ent->d_name) >= (int)sizeof full)
            continue;
        removed += unlink(full) == 0;
    }
    closedir(d);
    return removed;
}

tr_code tr_file_write_atomic(const char *path, const void *data, size_t n, tr_error *err)
{
    char tmp[4096], dir[4096];
    dir_of(path, dir, sizeof dir);
    (void)tr_tmp_sweep_dead(dir);
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return tr_fail(err, TR_ERR_INVALID, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return tr_fail(err, TR_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return tr_fail(err, TR_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return tr_fail(err, TR_ERR_IO, "%s: fsync failed: %s", tmp, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return tr_fail(err, TR_ERR_IO, "%s: close failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return tr_fail(err, TR_ERR_IO, "%s: rename to %s failed: %s", tmp, path, strerror(e));
    }
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        int rc = fsync(dfd);
        int e = errno;
        close(dfd);
        if (rc != 0 && e != EINVAL) /* some file systems cannot fsync a directory */
            return tr_fail(err, TR_ERR_IO, "%s: fsync of directory failed: %s", dir, strerror(e));
    }
    return TR_OK;
}

tr_code tr_mkdir_p(const char *path, tr_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return tr_fail(err, TR_ERR_INVALID, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return tr_fail(err, TR_ERR_IO, "%s: cannot create directory: %s", buf,
                               strerror(errno));
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return tr_fail(err, TR_ERR_IO, "%s: not a directory", path);
    return TR_OK;
}
