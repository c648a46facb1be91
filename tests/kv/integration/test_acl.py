"""ACL, as a redis-server without an ACL file answers it for its default
user, compared with redis-server (kv/cmd_acl.cc): WHOAMI, USERS, LIST,
GETUSER, CAT, GENPASS, DRYRUN, LOG of failed authentications, HELP,
DELUSER, SETUSER of no change, SAVE and LOAD, and the errors of each; and
every command's ACL categories in COMMAND INFO."""

import unittest

from differential import PeerTestCase
from harness import RespError, is_daxkv

# Fields of an ACL LOG entry that name the moment and the connection.
VOLATILE_LOG_FIELDS = (b"age-seconds", b"client-info")


class AclTest(PeerTestCase):
    def test_replies_as_redis(self):
        self.both_script([
            "ACL WHOAMI", "acl whoami", "ACL USERS", "ACL LIST",
            "ACL GETUSER default", "ACL GETUSER nobody", "ACL HELP",
            "ACL SAVE", "ACL LOAD", "ACL DELUSER default",
            "ACL DELUSER x y", "ACL DELUSER x default", "ACL GENPASS 0",
            "ACL GENPASS 4097", "ACL GENPASS abc", "ACL GENPASS -5",
            "ACL GENPASS 1 2", "ACL DRYRUN default get x",
            "ACL DRYRUN default nosuch", "ACL DRYRUN nobody get x",
            "ACL DRYRUN default get", "ACL DRYRUN default config get x",
            "ACL DRYRUN default config nosuch", "ACL DRYRUN default CONFIG",
            "ACL DRYRUN default acl cat", "ACL DRYRUN default set k v",
            "ACL DRYRUN default", "ACL FOO", "ACL", "ACL GETUSER",
            "ACL WHOAMI x", "ACL USERS x", "ACL LIST x", "ACL CAT nosuch",
            "ACL CAT a b", "ACL CAT", "ACL LOG 1 2", "ACL LOG x",
            "ACL LOG RESET", "ACL LOG", "ACL LOG -1", "ACL LOG 0",
            "ACL SETUSER", "ACL SETUSER default",
            "ACL SETUSER default on ~* &* +@all allkeys allchannels",
            "ACL SETUSER default nopass allcommands", "ACL LIST",
        ])

    def test_genpass(self):
        for bits, chars in ((None, 64), (1, 1), (7, 2), (10, 3), (4096, 1024)):
            args = ["ACL", "GENPASS"] + ([] if bits is None else [bits])
            mine, ref = self.c.cmd(*args), self.ref.cmd(*args)
            self.assertRegex(mine, rb"^[0-9a-f]{%d}$" % chars)
            self.assertEqual(len(mine), len(ref))
        self.assertNotEqual(self.c.cmd("ACL", "GENPASS"),
                            self.c.cmd("ACL", "GENPASS"))

    def test_categories_list_the_commands_redis_puts_there(self):
        """ACL CAT <category>: what Redis lists, less the subcommands
        ("config|get") and the commands daxkv does not have."""
        names = {n.decode() for n in self.c.cmd("COMMAND", "LIST")}
        cats = self.both_unordered("ACL", "CAT")
        self.assertEqual(len(cats), 21)
        for cat in cats:
            mine = {n.decode() for n in self.c.cmd("ACL", "CAT", cat)}
            ref = {n.decode() for n in self.ref.cmd("ACL", "CAT", cat)}
            self.assertEqual(mine, {n for n in ref if n in names},
                             "ACL CAT %s" % cat.decode())
        self.both_unordered("ACL", "CAT", "LIST")  # any case

    def test_command_info_gives_redis_categories(self):
        names = [n.decode() for n in self.c.cmd("COMMAND", "LIST")]
        redis_names = {n.decode() for n in self.ref.cmd("COMMAND", "LIST")}
        checked = 0
        for name in names:
            if name not in redis_names:
                continue
            mine = self.c.cmd("COMMAND", "INFO", name)[0]
            ref = self.ref.cmd("COMMAND", "INFO", name)[0]
            self.assertEqual(sorted(mine[6]), sorted(ref[6]),
                             "ACL categories of " + name)
            checked += 1
        self.assertGreater(checked, 200)

    @unittest.skipUnless(is_daxkv(), "redis-server adds the user")
    def test_setuser_that_changes_something_is_refused(self):
        for args in (["alice", "on"], ["default", "off"],
                     ["default", ">pass"], ["default", "-@all"]):
            reply = self.c.cmd("ACL", "SETUSER", *args)
            self.assertIsInstance(reply, RespError, args)
            self.assertIn("one user", str(reply))
        self.assertEqual(self.c.cmd("ACL", "USERS"), [b"default"])


class AclPasswordTest(PeerTestCase):
    """With requirepass set (on both servers, by CONFIG SET): the default
    user's password hash, and the log of failed authentications."""

    def setUp(self):
        super().setUp()
        for c in (self.c, self.ref):
            self.assertEqual(c.cmd("CONFIG", "SET", "requirepass", "s3cret"),
                             "OK")
            self.assertEqual(c.cmd("ACL", "LOG", "RESET"), "OK")

    def tearDown(self):  # before the base class closes the clients
        for c in (self.c, self.ref):
            c.cmd("CONFIG", "SET", "requirepass", "")
            c.cmd("CONFIG", "SET", "acllog-max-len", 128)
        super().tearDown()

    def fail_auth(self, *attempts):
        for server in (self.server, self.peer):
            with server.client() as c:
                for args in attempts:
                    self.assertIsInstance(c.cmd(*args), RespError)

    def log(self, c, *args):
        """ACL LOG's entries without the fields that name the moment and
        the connection (checked for their shape)."""
        entries = []
        for e in c.cmd("ACL", "LOG", *args):
            fields = dict(zip(e[::2], e[1::2]))
            self.assertGreaterEqual(float(fields[b"age-seconds"]), 0)
            self.assertRegex(fields[b"client-info"], rb"^id=\d+ addr=")
            entries.append([x for k, v in fields.items()
                            if k not in VOLATILE_LOG_FIELDS for x in (k, v)])
        return entries

    def test_list_and_getuser_show_the_password_hash(self):
        self.both("ACL", "LIST")
        self.both("ACL", "GETUSER", "default")
        self.assertRegex(self.c.cmd("ACL", "LIST")[0],
                         rb"^user default on #[0-9a-f]{64} ~\* &\* \+@all$")
        self.both("ACL", "DRYRUN", "default", "get", "k")

    def test_log_of_failed_authentications(self):
        self.fail_auth(["AUTH", "wrong"], ["AUTH", "wrong"],
                       ["AUTH", "bob", "x"],
                       ["HELLO", "3", "AUTH", "default", "nope"])
        mine, ref = self.log(self.c), self.log(self.ref)
        self.assertEqual(mine, ref)
        # Grouped by object too: AUTH as default twice, AUTH as bob, HELLO.
        self.assertEqual(len(mine), 3)
        self.assertEqual(mine[2][:2], [b"count", 2])
        self.fail_auth(["auth", "wrong"], ["AUTH", "wrong"])
        mine, ref = self.log(self.c), self.log(self.ref)
        self.assertEqual(mine, ref)
        self.assertEqual([e[1] for e in mine], [3, 1, 1, 1])
        self.assertEqual(self.log(self.c, "1"), self.log(self.ref, "1"))
        self.assertEqual(self.log(self.c, "-1"), [])
        self.both("ACL", "LOG", "RESET")
        self.both("ACL", "LOG")

    def test_acllog_max_len(self):
        self.both_script(["CONFIG SET acllog-max-len -1",
                          "CONFIG SET acllog-max-len x",
                          "CONFIG GET acllog-max-len",
                          "CONFIG SET acllog-max-len 1"])
        self.fail_auth(["AUTH", "a", "x"], ["AUTH", "b", "x"])
        mine = self.log(self.c)
        self.assertEqual(mine, self.log(self.ref))
        self.assertEqual([e[9] for e in mine], [b"b"])


if __name__ == "__main__":
    unittest.main()
