/*
 * Captured frames for the C tests: test/fixtures/<name>.hex holds one frame per line in hex, with
 * '#' comment lines. The directory comes from FFNET_FIXTURES (set by c-suites.test.ts), else
 * test/fixtures relative to the working directory.
 */
#ifndef FFNET_TEST_FIXTURES_H
#define FFNET_TEST_FIXTURES_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/wire/hex.h"
#include "test/stack/harness.h"

#define FIXTURE_MAX_FRAMES 16
#define FIXTURE_MAX_FRAME_LEN 1518

struct fixture_frame {
	uint8_t b[FIXTURE_MAX_FRAME_LEN];
	size_t len;
};

/** Loads `name` (e.g. "veth.hex") into frames[]; returns how many (a failing check on any error). */
static int fixture_load(const char *name, struct fixture_frame *frames, int max)
{
	const char *dir = getenv("FFNET_FIXTURES");
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "test/fixtures", name);
	FILE *f = fopen(path, "r");
	if (!f)
		FAIL("cannot open %s: %s (set FFNET_FIXTURES to the fixtures directory)", path, strerror(errno));
	static char line[2 * FIXTURE_MAX_FRAME_LEN + 64];
	int n = 0, lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		long len = n < max ? hex_decode(line, frames[n].b, FIXTURE_MAX_FRAME_LEN) : -1;
		if (len < 0) {
			fclose(f);
			FAIL("%s:%d: not a frame in hex, or more than %d frames", path, lineno, max);
		}
		frames[n++].len = (size_t)len;
	}
	fclose(f);
	return n;
}

#endif
