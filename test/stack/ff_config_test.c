/*
 * ff_config_read, the C reader of ffnet.ini behind ff_init: the checks it shares with the
 * TypeScript loader, each refused with the same message (printed to stderr) — EAL arguments that
 * print instead of starting, a secondary process, more ports than a stack serves, a bad log sink —
 * and the `[dpdk] log` sink it hands to ff_init.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "posix/ff_config.h"
#include "test/stack/harness.h"

static char path[] = "/tmp/ffnet-config-test-XXXXXX";
static char message[1024];

/** Reads `text` as the file at `path`; returns ff_config_read's result, its stderr in `message`. */
static int read_text(const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
	FILE *err = tmpfile();
	CHECK(err != NULL);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	struct ffs_conf *conf;
	int argc;
	char **argv;
	int rc = ff_config_read(path, &conf, &argc, &argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(err);
	size_t n = fread(message, 1, sizeof(message) - 1, err);
	message[n] = '\0';
	fclose(err);
	return rc;
}

/** The expected message: `<path>: <rest>\n`. */
static const char *expect(const char *rest)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf), "%s: %s\n", path, rest);
	return buf;
}

TEST(setup)
{
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
}

TEST(extra_args_that_print_are_refused)
{
	const char *printing[] = { "--help", "-h", "-v", "--version" };
	for (unsigned i = 0; i < 4; i++) {
		char text[128], rest[256];
		snprintf(text, sizeof(text), "[dpdk]\nextra_args = --in-memory %s\n", printing[i]);
		CHECK_EQ_INT(read_text(text), -1);
		snprintf(rest, sizeof(rest),
			 "[dpdk] extra_args: \"%s\" makes the EAL print instead of starting (usage or version text); remove it", printing[i]);
		CHECK_EQ_STR(message, expect(rest));
	}
}

TEST(process_type_and_hugepage_mount_are_set_from_their_keys)
{
	const char *forms[][3] = { { "--proc-type=secondary", "--proc-type=secondary", "proc_type" },
				   { "--proc-type secondary", "--proc-type", "proc_type" },
				   { "--huge-dir /mnt", "--huge-dir", "huge_dir" } };
	for (unsigned i = 0; i < 3; i++) {
		char text[128], rest[160];
		snprintf(text, sizeof(text), "[dpdk]\nextra_args = %s\n", forms[i][0]);
		CHECK_EQ_INT(read_text(text), -1);
		snprintf(rest, sizeof(rest), "[dpdk] extra_args: \"%s\" is set from the %s key; set it there instead", forms[i][1], forms[i][2]);
		CHECK_EQ_STR(message, expect(rest));
	}
}

TEST(nine_ports_are_refused)
{
	char text[2048] = "";
	for (int i = 0; i < 9; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[port%d]\naddr = 10.77.%d.2\nnetmask = 255.255.255.0\n", i, i);
	CHECK_EQ_INT(read_text(text), -1);
	CHECK_EQ_STR(message, expect("[port8]: 9 ports are configured ([port0], [port1], [port2], [port3], [port4], [port5], [port6], "
				     "[port7], [port8]); a stack serves at most 8"));
}

TEST(log_sink)
{
	CHECK_EQ_INT(read_text("[dpdk]\nlog = file:/tmp/ffnet-dpdk.log\n"), 0);
	CHECK_EQ_STR(ff_config_log(), "file:/tmp/ffnet-dpdk.log");
	CHECK_EQ_INT(read_text("[dpdk]\n"), 0);
	CHECK(ff_config_log() == NULL);
	CHECK_EQ_INT(read_text("[dpdk]\nlog = stdout\n"), -1);
	CHECK_EQ_STR(message, expect("[dpdk] log: \"stdout\" is not a log sink (none, stderr, syslog or file:PATH)"));
}

TEST(teardown) { unlink(path); }

TEST_MAIN()
