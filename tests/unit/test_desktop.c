/* agent/desktop.c: `loginctl show-session` output, and which sessions get
 * a desktop notification. */
#include "desktop.h"
#include "t.h"

static void
test_parse(void)
{
	struct desktop_session s;
	struct err e;

	/* As loginctl show-session 2 -p Id -p Name -p User -p Type -p Class
	 * -p State prints it (the Session object's order), plus keys that
	 * are not asked for. */
	T_OK(desktop_parse_session("Id=2\nUser=1000\nName=alice\n"
	    "Seat=seat0\nType=wayland\nClass=user\nActive=yes\n"
	    "State=active\n", &s, &e) == 0);
	T_EQ_STR(s.id, "2");
	T_EQ_STR(s.name, "alice");
	T_EQ_INT(s.uid, 1000);
	T_EQ_STR(s.type, "wayland");
	T_EQ_STR(s.cls, "user");
	T_EQ_STR(s.state, "active");
	T_OK(desktop_is_graphical(&s));

	/* Any order, no final newline, empty values. */
	T_OK(desktop_parse_session("State=online\nType=x11\nClass=user\n"
	    "Name=bob\nUser=1001\nDisplay=\nId=c3", &s, &e) == 0);
	T_EQ_STR(s.id, "c3");
	T_EQ_INT(s.uid, 1001);
	T_OK(desktop_is_graphical(&s));

	/* Nothing: unknown uid, no type. */
	T_OK(desktop_parse_session("", &s, &e) == 0);
	T_EQ_INT(s.uid, -1);
	T_OK(!desktop_is_graphical(&s));

	T_OK(desktop_parse_session("User=alice\n", &s, &e) == -1);
	T_CONTAINS(e.msg, "bad User 'alice'");
	T_OK(desktop_parse_session("User=-1\n", &s, &e) == -1);
	T_OK(desktop_parse_session("User=99999999999\n", &s, &e) == -1);
	T_OK(desktop_parse_session("User=10 00\n", &s, &e) == -1);
	T_OK(desktop_parse_session("Type=wayland-but-far-too-long\n", &s,
	    &e) == -1);
	T_CONTAINS(e.msg, "Type too long");
}

static void
test_graphical(void)
{
	static const struct {
		const char *text;
		int graphical;
	} cases[] = {
		{ "Name=a\nUser=1\nType=x11\nClass=user\nState=active", 1 },
		{ "Name=a\nUser=1\nType=mir\nClass=user\nState=online", 1 },
		/* systemd 256's early user sessions are people too */
		{ "Name=a\nUser=1\nType=wayland\nClass=user-early\n"
		  "State=active", 1 },
		{ "Name=a\nUser=1\nType=tty\nClass=user\nState=active", 0 },
		{ "Name=a\nUser=1\nType=unspecified\nClass=user\n"
		  "State=active", 0 },
		{ "Name=gdm\nUser=60578\nType=wayland\nClass=greeter\n"
		  "State=active", 0 },
		{ "Name=a\nUser=1\nType=x11\nClass=user\nState=closing", 0 },
		{ "Name=a\nType=x11\nClass=user\nState=active", 0 },
		{ "User=1\nType=x11\nClass=user\nState=active", 0 },
		/* a name runuser would take for an option, or a path */
		{ "Name=-x\nUser=1\nType=x11\nClass=user\nState=active", 0 },
		{ "Name=a/b\nUser=1\nType=x11\nClass=user\nState=active", 0 },
		{ "Name=a b\nUser=1\nType=x11\nClass=user\nState=active", 0 },
	};
	struct desktop_session s;
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_OK(desktop_parse_session(cases[i].text, &s, &e) == 0);
		if (desktop_is_graphical(&s) != (cases[i].graphical == 1))
			T_FAIL("case %zu: graphical should be %d", i,
			    cases[i].graphical);
	}
}

int
main(void)
{
	test_parse();
	test_graphical();
	return T_DONE();
}
