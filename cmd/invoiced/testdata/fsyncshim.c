// fsyncshim records, for every fsync or fdatasync of a file whose path
// starts with $FSYNCSHIM_DIR, the file's size when the call began, once
// the call has returned: that much of the file is on disk. Loaded into
// redis-server with LD_PRELOAD, it tells the power-loss test which prefix
// of each append-only file a power loss at any instant would keep. The
// records go to $FSYNCSHIM_LOG as "path size" lines, one write each.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static int record(int fd, int (*sync)(int)) {
	const char *dir = getenv("FSYNCSHIM_DIR");
	const char *log = getenv("FSYNCSHIM_LOG");
	char link[64], path[4096];
	struct stat st;
	ssize_t n = -1;
	int tracked = 0;
	if (dir && log) {
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof path - 1);
		if (n > 0) {
			path[n] = 0;
			tracked = strncmp(path, dir, strlen(dir)) == 0 && fstat(fd, &st) == 0;
		}
	}
	int rc = sync(fd);
	if (rc == 0 && tracked) {
		char line[4200];
		int len = snprintf(line, sizeof line, "%s %lld\n", path, (long long)st.st_size);
		int lf = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (lf >= 0) {
			if (write(lf, line, len) != len) {
				abort();
			}
			close(lf);
		}
	}
	return rc;
}

int fsync(int fd) {
	if (!real_fsync) real_fsync = dlsym(RTLD_NEXT, "fsync");
	return record(fd, real_fsync);
}

int fdatasync(int fd) {
	if (!real_fdatasync) real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	return record(fd, real_fdatasync);
}
