/*
 * rollout: the plan parser (good plans, and errors that name line:col),
 * globs, wave membership and due times, and percent over 10,000 generated
 * host names: each wave's share within 1 point of what it asks, the same
 * hosts in every release without shuffle, others with it.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rollout.h"
#include "t.h"

#define NHOSTS	10000

static const char example[] =
    "waves:\n"
    "  - name: canary\n"
    "    hosts: [\"lab-*\", cinnabar]\n"
    "  - name: early\n"
    "    groups: [desktops]\n"
    "    percent: 25\n"
    "    after: 2h\n"
    "  - name: everyone\n"
    "    after: 24h\n"
    "halt:\n"
    "  failed: 2\n";

static int
parse(struct rollout_plan *p, const char *text, struct err *e)
{
	return rollout_parse(p, "rollout.yaml", text, strlen(text), e);
}

static void
test_example(void)
{
	struct rollout_plan p;
	struct err e;
	char *d;

	T_EQ_INT(parse(&p, example, &e), 0);
	T_EQ_INT(p.nwaves, 3);
	T_EQ_STR(p.waves[0].name, "canary");
	T_EQ_INT(p.waves[0].nhosts, 2);
	T_EQ_STR(p.waves[0].hosts[0], "lab-*");
	T_EQ_INT(p.waves[0].percent, 100);
	T_EQ_INT(p.waves[1].percent, 25);
	T_EQ_INT(p.waves[1].after_ms, 2 * 3600 * 1000);
	T_EQ_INT(p.waves[2].after_ms, 24 * 3600 * 1000);
	T_EQ_INT(p.halt_failed, 2);
	T_OK(!p.require_status && !p.urgent && !p.shuffle);
	T_EQ_INT(rollout_wave_of(&p, "lab-3", NULL, "r"), 0);
	T_EQ_INT(rollout_wave_of(&p, "cinnabar", "desktops", "r"), 0);
	T_EQ_INT(rollout_wave_of(&p, "server1", "servers", "r"), 2);
	T_EQ_INT(rollout_wave_of(&p, "server1", NULL, "r"), 2);
	T_EQ_INT(rollout_due(&p, 0, 1000), 1000);
	T_EQ_INT(rollout_due(&p, 1, 1000), 1000 + 7200);
	T_EQ_INT(rollout_due(&p, 2, 1000), 1000 + 86400);
	d = rollout_describe(&p);
	T_CONTAINS(d, "wave early: after 2h groups desktops percent 25");
	T_CONTAINS(d, "halt: after 2 failed hosts");
	free(d);
	rollout_release(&p);

	T_EQ_INT(parse(&p, "urgent: true\nshuffle: true\nwaves:\n"
	    "  - hosts: a\n  - after: 1d\nhalt: {failed: 1, "
	    "require_status: true}\n", &e), 0);
	T_OK(p.urgent && p.shuffle && p.require_status);
	T_EQ_STR(p.waves[0].name, "wave 1");
	T_EQ_STR(p.waves[1].name, "wave 2");
	T_EQ_INT(rollout_due(&p, 1, 1000), 1000);	/* urgent */
	T_EQ_INT(rollout_wave_of(&p, "b", NULL, "r"), 1);
	rollout_release(&p);
}

struct bad {
	const char	*text;
	const char	*want;
};

static void
test_errors(void)
{
	static const struct bad bad[] = {
		{ "", "rollout.yaml:1:1: expected a mapping with 'waves'" },
		{ "halt: {failed: 1}\n", "rollout.yaml:1:1: missing key "
		  "'waves'" },
		{ "waves: []\n", "rollout.yaml:1:8: 'waves' must list from 1" },
		{ "waves:\n  - hostz: [a]\n", "rollout.yaml:2:5: unknown key "
		  "in a wave: 'hostz'" },
		{ "waves:\n  - percent: 101\n", "rollout.yaml:2:14: 'percent' "
		  "must be from 0 to 100" },
		{ "waves:\n  - percent: 25%\n", "rollout.yaml:2:14: expected a "
		  "decimal integer for 'percent'" },
		{ "waves:\n  - after: soon\n", "rollout.yaml:2:12: 'after' is "
		  "not a duration" },
		{ "waves:\n  - after: 2h\n  - after: 1h\n", "rollout.yaml:3:5:"
		  " wave 'wave 2' starts before the wave above it" },
		{ "waves:\n  - name: a\n  - name: a\n", "rollout.yaml:3:5: "
		  "wave name 'a' used twice" },
		{ "waves:\n  - hosts: [\"a b\"]\n", "rollout.yaml:2:13: "
		  "expected a host name or glob" },
		{ "waves:\n  - groups: [\"x*\"]\n", "rollout.yaml:2:14: "
		  "expected a group name" },
		{ "waves:\n  - hosts: []\n", "'hosts' must list from 1" },
		{ "waves: [a]\n", "rollout.yaml:1:9: expected a mapping for a "
		  "wave, not 'a string'" },
		{ "waves:\n  - {}\nurgent: yes\n", "rollout.yaml:3:9: expected "
		  "true or false for 'urgent'" },
		{ "waves:\n  - {}\nwaves:\n  - {}\n", "rollout.yaml:3:1: "
		  "repeated key 'waves'" },
		{ "waves:\n  - {}\nhalt: {failed: 0}\n", "'failed' must be "
		  "from 1" },
		{ "waves:\n  - {}\nhalt: {stop: 1}\n", "unknown key in 'halt':"
		  " 'stop'" },
		{ "waves: &a\n  - {}\n", "rollout.yaml:1:8: anchor '&a' not "
		  "allowed" },
		{ "waves:\n  - {}\nwaves2: 1\n", "rollout.yaml:3:1: unknown "
		  "key 'waves2'" },
	};
	struct rollout_plan p;
	struct err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		T_EQ_INT(parse(&p, bad[i].text, &e), -1);
		T_CONTAINS(e.msg, bad[i].want);
		T_EQ_INT(p.nwaves, 0);
	}
}

static void
test_glob(void)
{
	T_OK(rollout_glob("lab-*", "lab-1"));
	T_OK(rollout_glob("lab-*", "lab-"));
	T_OK(!rollout_glob("lab-*", "lab"));
	T_OK(rollout_glob("*", ""));
	T_OK(rollout_glob("a?c", "abc"));
	T_OK(!rollout_glob("a?c", "ac"));
	T_OK(rollout_glob("*b*b*", "abcbd"));
	T_OK(!rollout_glob("*b*b*", "abcd"));
	T_OK(rollout_glob("*.example.com", "a.b.example.com"));
	T_OK(!rollout_glob("cinnabar", "cinnabar2"));
	T_OK(!rollout_glob("*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* Each wave's share of the hosts not in an earlier wave, in hundredths
 * of a percent; and how many hosts landed in a wave other than in
 * reference (when given). */
static void
shares(const struct rollout_plan *p, const char *rev, size_t *wave_of,
    unsigned *share, size_t *moved)
{
	size_t count[8] = { 0 }, left = NHOSTS;
	char host[64];

	*moved = 0;
	for (size_t i = 0; i < NHOSTS; i++) {
		size_t w;

		snprintf(host, sizeof(host), "host-%zu.fleet%zu", i * 7919,
		    i % 13);
		w = rollout_wave_of(p, host, NULL, rev);
		count[w]++;
		if (wave_of[i] != (size_t)-1 && wave_of[i] != w)
			(*moved)++;
		wave_of[i] = w;
	}
	for (size_t w = 0; w < p->nwaves; w++) {
		share[w] = left ? (unsigned)(count[w] * 10000 / left) : 0;
		left -= count[w];
	}
}

static void
test_percent(void)
{
	static const char text[] = "waves:\n  - {name: a, percent: 1}\n"
	    "  - {name: b, percent: 10}\n  - {name: c, percent: 25}\n"
	    "  - {name: d, percent: 50}\n  - {name: e}\n";
	static const unsigned want[] = { 100, 1000, 2500, 5000, 10000 };
	struct rollout_plan p, s;
	size_t *w1 = malloc(NHOSTS * sizeof(*w1)), moved;
	unsigned share[8];
	struct err e;
	char *text2;

	T_EQ_INT(parse(&p, text, &e), 0);
	for (size_t i = 0; i < NHOSTS; i++)
		w1[i] = (size_t)-1;
	shares(&p, "1111111111111111111111111111111111111111", w1, share,
	    &moved);
	for (size_t w = 0; w < 5; w++) {
		long d = (long)share[w] - (long)want[w];

		if (d < -100 || d > 100)
			T_FAIL("wave %zu: %u/10000 where %u was asked", w,
			    share[w], want[w]);
		t_checks++;
	}
	/* Stable: another release puts every host in the same wave. */
	shares(&p, "2222222222222222222222222222222222222222", w1, share,
	    &moved);
	T_EQ_INT(moved, 0);

	text2 = xasprintf("shuffle: true\n%s", text);
	T_EQ_INT(parse(&s, text2, &e), 0);
	shares(&s, "1111111111111111111111111111111111111111", w1, share,
	    &moved);
	for (size_t w = 0; w < 5; w++) {
		long d = (long)share[w] - (long)want[w];

		T_OK(d >= -100 && d <= 100);
	}
	shares(&s, "2222222222222222222222222222222222222222", w1, share,
	    &moved);
	T_OK(moved > NHOSTS / 4);	/* others early this time */
	free(text2);
	free(w1);
	rollout_release(&p);
	rollout_release(&s);
}

/* tests/corpus/rollout/good parse, bad do not (with file:line:col). */
static void
test_corpus(void)
{
	static const char *const kinds[] = { "good", "bad" };
	const char *src = getenv("NIXPULL_SRCDIR");
	struct rollout_plan p;
	struct dirent *de;
	char dir[512], path[1024];
	size_t len, n = 0;
	struct err e;
	DIR *d;

	for (int k = 0; k < 2; k++) {
		snprintf(dir, sizeof(dir), "%s/tests/corpus/rollout/%s",
		    src ? src : ".", kinds[k]);
		if ((d = opendir(dir)) == NULL) {
			T_FAIL("cannot open %s", dir);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			char *text;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if ((text = t_slurp(path, &len)) == NULL) {
				T_FAIL("cannot read %s", path);
				continue;
			}
			n++;
			if ((rollout_parse(&p, "rollout.yaml", text, len,
			    &e) == 0) != (k == 0))
				T_FAIL("%s: %s", path, k ? "parsed" : e.msg);
			else if (k == 0)
				rollout_release(&p);
			else
				T_CONTAINS(e.msg, "rollout.yaml");
			t_checks++;
			free(text);
		}
		closedir(d);
	}
	T_OK(n >= 10);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_example();
	test_errors();
	test_glob();
	test_percent();
	test_corpus();
	return T_DONE();
}
