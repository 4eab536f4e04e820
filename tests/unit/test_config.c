/*
 * The config parser against its corpus (tests/corpus/config): every bad file
 * fails with the first error its NAME.expect gives ('*' matches anything,
 * e.g. the checkout's directory), every good file loads, prints, and the
 * printout loads again to the same printout.  Then defaults, secrets, and
 * the limits.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "caps.h"
#include "t.h"

static char corpus[4096];

/* Glob match where only '*' is special. */
static int
star_match(const char *p, const char *s)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*')
		return star_match(p + 1, s) || (*s && star_match(p, s + 1));
	return *p == *s && star_match(p + 1, s + 1);
}

static char *
read_line(const char *path)
{
	char line[2048];
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return NULL;
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\n")] = '\0';
	return strdup(line);
}

static char *
print_to_string(const struct config *cfg)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);

	config_print(cfg, fp);
	fclose(fp);
	return s;
}

static void
bad_one(const char *dir, const char *file)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	struct config cfg;
	char path[8192], want[8192], *expect;
	size_t n = strlen(file) - strlen(".yaml");

	snprintf(path, sizeof(path), "%s/%.*s.expect", dir, (int)n, file);
	expect = read_line(path);
	T_OK(expect != NULL && *expect != '\0');
	if (expect == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(want, sizeof(want), "%s/%s", dir, expect);
	T_EQ_INT(config_load(&cfg, path, &errors, &warnings), -1);
	T_OK(errors.n >= 1);
	if (errors.n >= 1 && !star_match(want, errors.v[0]))
		T_FAIL("%s: first error\n  got:  %s\n  want: %s", file,
		    errors.v[0], want);
	free(expect);
	strvec_clear(&errors);
	strvec_clear(&warnings);
}

static void
good_one(const char *dir, const char *file)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	struct config cfg, again;
	char path[8192], *out, *out2;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (config_load(&cfg, path, &errors, &warnings) != 0) {
		T_FAIL("%s: %s", file, errors.n ? errors.v[0] : "?");
		strvec_clear(&errors);
		return;
	}
	out = print_to_string(&cfg);
	if (config_parse(&again, path, out, strlen(out), &errors,
	    &warnings) != 0) {
		T_FAIL("%s: printout does not load: %s\n%s", file,
		    errors.n ? errors.v[0] : "?", out);
	} else {
		out2 = print_to_string(&again);
		T_EQ_STR(out2, out);
		free(out2);
		config_release(&again);
	}
	free(out);
	config_release(&cfg);
	strvec_clear(&errors);
	strvec_clear(&warnings);
}

static size_t
corpus_run(const char *sub, void (*fn)(const char *, const char *))
{
	char dir[8192];
	struct dirent *de;
	size_t n = 0, len;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", corpus, sub);
	if ((d = opendir(dir)) == NULL) {
		T_FAIL("cannot open %s", dir);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0) {
			fn(dir, de->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Parses text (no filesystem checks); returns the result. */
static int
parse(struct config *cfg, const char *text, struct strvec *errors)
{
	struct strvec warnings = STRVEC_INIT;
	int r;

	r = config_parse(cfg, "/etc/nixpull/config.yaml", text, strlen(text),
	    errors, &warnings);
	strvec_clear(&warnings);
	return r;
}

#define MINIMAL "repo:\n  url: https://git.example.com/infra.git\n" \
	"trust:\n  allowed_signers: allowed_signers\n"

static void
test_defaults(void)
{
	struct strvec errors = STRVEC_INIT;
	struct config cfg;

	T_EQ_INT(parse(&cfg, MINIMAL, &errors), 0);
	T_EQ_INT(errors.n, 0);
	T_OK(cfg.host != NULL && strchr(cfg.host, '.') == NULL);
	T_EQ_STR(cfg.state_dir, "/var/lib/nixpull");
	T_EQ_STR(cfg.repo.ref, "main");
	T_EQ_STR(cfg.trust.allowed_signers, "/etc/nixpull/allowed_signers");
	T_OK(cfg.repo.ssh_key == NULL && cfg.repo.token_file == NULL);
	T_EQ_INT(cfg.repo.max_fetch_size, 512ULL << 20);
	T_EQ_INT(cfg.repo.connect_timeout_ms, 30000);
	T_EQ_INT(cfg.repo.timeout_ms, 600000);
	T_EQ_INT(cfg.trust.max_walk, 1000);
	T_EQ_INT(cfg.trust.threshold, 1);
	T_EQ_INT(cfg.trust.max_age_ms, 0);
	T_EQ_INT(cfg.poll.interval_ms, 300000);
	T_EQ_INT(cfg.poll.jitter_ms, 60000);
	T_EQ_INT(cfg.build.profile, PROFILE_WORKSTATION);
	T_EQ_INT(cfg.build.max_jobs, CONFIG_AUTO);
	T_EQ_INT(cfg.build.cores, CONFIG_AUTO);
	T_EQ_INT(cfg.build.timeout_ms, 7200000);
	T_EQ_INT(cfg.build.on_battery, ON_BATTERY_DEFER);
	T_EQ_INT(cfg.build.mem_per_job, 2ULL << 30);
	T_EQ_INT(cfg.build.min_free_disk, 5ULL << 30);
	T_OK(cfg.build.attribute == NULL);
	T_EQ_INT(cfg.activate.mode, MODE_SWITCH);
	T_EQ_INT(cfg.activate.nchecks, 0);
	T_EQ_INT(cfg.activate.check_timeout_ms, 300000);
	T_EQ_INT(cfg.activate.rollback, 1);
	T_OK(cfg.activate.command == NULL);
	T_EQ_STR(cfg.activate.current_system, "/run/current-system");
	T_EQ_INT(cfg.activate.timeout_ms, 3600000);
	T_OK(cfg.report.url == NULL);
	T_EQ_INT(cfg.report.timeout_ms, 30000);
	T_EQ_STR(config_mode_name(cfg.activate.mode), "switch");
	T_EQ_STR(config_profile_name(cfg.build.profile), "workstation");
	config_release(&cfg);
}

static void
test_full(void)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	struct config cfg;
	char path[8192];

	snprintf(path, sizeof(path), "%s/good/full.yaml", corpus);
	T_EQ_INT(config_load(&cfg, path, &errors, &warnings), 0);
	if (errors.n)
		return;
	T_EQ_STR(cfg.host, "cinnabar");
	T_EQ_STR(cfg.state_dir, "/srv/nixpull");
	T_EQ_STR(cfg.repo.ref, "refs/heads/release");
	/* relative to the config file's directory */
	T_OK(cfg.repo.ssh_key[0] == '/');
	T_CONTAINS(cfg.repo.ssh_key, "/good/secrets/deploy_key");
	T_CONTAINS(cfg.report.token_file, "/good/secrets/report-token");
	T_EQ_INT(cfg.repo.max_fetch_size, 1ULL << 30);
	T_EQ_INT(cfg.repo.connect_timeout_ms, 10000);
	T_EQ_INT(cfg.trust.max_walk, 200);
	T_EQ_INT(cfg.trust.threshold, 2);
	T_EQ_INT(cfg.trust.max_age_ms, 7ULL * 86400000);
	T_EQ_INT(cfg.poll.interval_ms, 5400000);
	T_EQ_INT(cfg.poll.jitter_ms, 250);
	T_EQ_INT(cfg.build.profile, PROFILE_SERVER);
	T_EQ_INT(cfg.build.max_jobs, 4);
	T_EQ_INT(cfg.build.cores, 0);
	T_EQ_INT(cfg.build.on_battery, ON_BATTERY_BUILD);
	T_EQ_INT(cfg.build.min_free_disk, 10ULL << 30);
	T_EQ_INT(cfg.activate.mode, MODE_BOOT);
	T_EQ_INT(cfg.activate.rollback, 0);
	T_EQ_INT(cfg.activate.nchecks, 1);
	T_EQ_INT(cfg.activate.checks[0].timeout_ms, 120000);
	T_EQ_STR(cfg.report.url, "https://status.example.com/hosts/");
	T_EQ_INT(cfg.report.timeout_ms, 60000);
	config_release(&cfg);
	strvec_clear(&warnings);
}

static void
test_health_checks(void)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	struct config cfg;
	char path[8192];
	struct health_check *hc;

	snprintf(path, sizeof(path), "%s/good/health-checks.yaml", corpus);
	T_EQ_INT(config_load(&cfg, path, &errors, &warnings), 0);
	if (errors.n)
		return;
	T_EQ_INT(cfg.activate.nchecks, 5);
	hc = cfg.activate.checks;
	T_EQ_INT(hc[0].argv.n, 3);
	T_EQ_STR(hc[0].argv.v[2], "--wait");
	T_EQ_INT(hc[0].timeout_ms, 60000);	/* check_timeout, set after */
	T_EQ_INT(hc[1].argv.n, 4);
	T_EQ_STR(hc[1].argv.v[3], "http://127.0.0.1:8080/health check");
	T_EQ_INT(hc[2].argv.n, 4);
	T_EQ_STR(hc[2].argv.v[0], "ping");
	T_EQ_INT(hc[2].timeout_ms, 10000);
	T_EQ_STR(hc[3].argv.v[2], "test -e /run/booted-system");
	T_EQ_INT(hc[4].argv.n, 3);
	T_EQ_STR(hc[4].argv.v[0], "tab");
	T_OK(hc[4].argv.v[3] == NULL);
	config_release(&cfg);
	strvec_clear(&warnings);
}

static void
test_collects_errors(void)
{
	struct strvec errors = STRVEC_INIT;
	struct config cfg;

	T_EQ_INT(parse(&cfg, "poll:\n  intervall: 5m\n  jitter: 5\n"
	    "build:\n  max_jobs: many\nrepo:\n  ref: x\n", &errors), -1);
	T_EQ_INT(errors.n, 5);
	if (errors.n == 5) {
		T_CONTAINS(errors.v[0], "config.yaml:2:3: unknown key");
		T_CONTAINS(errors.v[1], "config.yaml:3:11: invalid duration");
		T_CONTAINS(errors.v[2], "config.yaml:5:13: invalid value 'many'");
		T_CONTAINS(errors.v[3], "config.yaml:7:3: missing required key "
		    "'repo.url'");
		T_CONTAINS(errors.v[4], "config.yaml:1:1: missing required key "
		    "'trust.allowed_signers'");
	}
	strvec_clear(&errors);
}

static void
test_too_many_errors(void)
{
	struct strvec errors = STRVEC_INIT;
	struct config cfg;
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	for (int i = 0; i < 500; i++)
		fprintf(fp, "bogus%d: 1\n", i);
	fclose(fp);
	T_EQ_INT(parse(&cfg, text, &errors), -1);
	T_EQ_INT(errors.n, MAX_CONFIG_ERRORS + 1);
	T_CONTAINS(errors.v[errors.n - 1], "too many errors");
	strvec_clear(&errors);
	free(text);
}

static void
write_file(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	T_OK(fd != -1);
	if (fd == -1)
		return;
	T_EQ_INT(write(fd, s, strlen(s)), (long long)strlen(s));
	fchmod(fd, mode);
	close(fd);
}

static void
test_secrets(const char *tmp)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	struct config cfg;
	char path[4096], tok[4096], text[8192];

	snprintf(tok, sizeof(tok), "%s/token", tmp);
	write_file(tok, "s3cr3t-t0ken\n", 0644);
	snprintf(path, sizeof(path), "%s/config.yaml", tmp);
	snprintf(text, sizeof(text), MINIMAL "report:\n"
	    "  url: https://status.example.com/\n  token_file: token\n");
	write_file(path, text, 0600);

	T_EQ_INT(config_load(&cfg, path, &errors, &warnings), 0);
	T_EQ_INT(warnings.n, 1);
	if (warnings.n == 1) {
		T_CONTAINS(warnings.v[0], "config.yaml:7:15: 'report.token_file'");
		T_CONTAINS(warnings.v[0], "mode 0644");
		T_OK(strstr(warnings.v[0], "s3cr3t") == NULL);
	}
	T_EQ_STR(cfg.report.token_file, tok);
	config_release(&cfg);
	strvec_clear(&warnings);

	chmod(tok, 0600);
	T_EQ_INT(config_load(&cfg, path, &errors, &warnings), 0);
	T_EQ_INT(warnings.n, 0);
	config_release(&cfg);

	unlink(tok);
	T_EQ_INT(config_load(&cfg, path, &errors, &warnings), -1);
	T_EQ_INT(errors.n, 1);
	T_CONTAINS(errors.v[0], "config.yaml:7:15: cannot read "
	    "'report.token_file'");
	T_CONTAINS(errors.v[0], tok);
	strvec_clear(&errors);

	/* config_parse does not look at the filesystem (the fuzzer) */
	T_EQ_INT(config_parse(&cfg, path, text, strlen(text), &errors,
	    &warnings), 0);
	config_release(&cfg);
	unlink(path);
}

static void
test_files(const char *tmp)
{
	struct strvec errors = STRVEC_INIT, warnings = STRVEC_INIT;
	struct config cfg;
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/nonexistent.yaml", tmp);
	T_EQ_INT(config_load(&cfg, path, &errors, &warnings), -1);
	T_EQ_INT(errors.n, 1);
	T_CONTAINS(errors.v[0], "cannot read config '");
	T_CONTAINS(errors.v[0], "nonexistent.yaml': No such file");
	strvec_clear(&errors);

	T_EQ_INT(config_load(&cfg, tmp, &errors, &warnings), -1);
	T_CONTAINS(errors.v[0], "not a regular file");
	strvec_clear(&errors);

	snprintf(path, sizeof(path), "%s/huge.yaml", tmp);
	fp = fopen(path, "w");
	T_OK(fp != NULL);
	fputs(MINIMAL, fp);
	for (int i = 0; i < MAX_CONFIG_SIZE / 32 + 1; i++)
		fputs("# padding padding padding paddi\n", fp);
	fclose(fp);
	T_EQ_INT(config_load(&cfg, path, &errors, &warnings), -1);
	T_EQ_INT(errors.n, 1);
	T_CONTAINS(errors.v[0], "huge.yaml: too large");
	strvec_clear(&errors);
	unlink(path);
	strvec_clear(&warnings);
}

static void
test_path(void)
{
	unsetenv("NIXPULL_CONFIG");
	T_EQ_STR(config_path(NULL), CONFIG_DEFAULT_PATH);
	T_EQ_STR(config_path("/x.yaml"), "/x.yaml");
	setenv("NIXPULL_CONFIG", "/env.yaml", 1);
	T_EQ_STR(config_path(NULL), "/env.yaml");
	T_EQ_STR(config_path("/x.yaml"), "/x.yaml");
	setenv("NIXPULL_CONFIG", "", 1);
	T_EQ_STR(config_path(NULL), CONFIG_DEFAULT_PATH);
	unsetenv("NIXPULL_CONFIG");
}

static void
test_print(void)
{
	struct strvec errors = STRVEC_INIT;
	struct config cfg;
	char *out;

	T_EQ_INT(parse(&cfg, MINIMAL "host: h1\nreport:\n  url: "
	    "file:///srv/status\n", &errors), 0);
	out = print_to_string(&cfg);
	T_CONTAINS(out, "\nhost: \"h1\"\n");
	T_CONTAINS(out, "\n  url: \"file:///srv/status/\"\n");
	T_CONTAINS(out, "\n  interval: 5m\n");
	T_CONTAINS(out, "\n  max_fetch_size: 512MiB\n");
	T_CONTAINS(out, "\n  max_jobs: auto\n");
	T_CONTAINS(out, "\n  health_checks: []\n");
	T_CONTAINS(out, "\n  token_file: null\n");
	free(out);
	config_release(&cfg);
}

int
main(void)
{
	const char *src = getenv("NIXPULL_SRCDIR");
	char tmp[] = "/tmp/test_config.XXXXXX";
	size_t nbad, ngood;

	snprintf(corpus, sizeof(corpus), "%s/tests/corpus/config",
	    src ? src : "..");
	nbad = corpus_run("bad", bad_one);
	ngood = corpus_run("good", good_one);
	T_OK(nbad >= 20);
	T_OK(ngood >= 5);
	fprintf(stderr, "corpus: %zu bad, %zu good\n", nbad, ngood);
	test_defaults();
	test_full();
	test_health_checks();
	test_collects_errors();
	test_too_many_errors();
	test_print();
	test_path();
	if (mkdtemp(tmp) == NULL) {
		T_FAIL("mkdtemp");
		return T_DONE();
	}
	test_secrets(tmp);
	test_files(tmp);
	rmdir(tmp);
	return T_DONE();
}
