#!/usr/bin/env python3
"""Tests of scripts/op_strata.py: Kendall tau-b by hand, and a database built so that a proxy
ranks cells perfectly within each operation stratum while preferring the worse stratum."""
import contextlib
import io
import itertools
import os
import sqlite3
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import op_strata  # noqa: E402


def nb201_arch(ops):
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*ops)


def distinct_arrangements(multiset, count):
    seen = []
    for perm in itertools.permutations(multiset):
        if perm not in seen:
            seen.append(perm)
        if len(seen) == count:
            return seen
    raise AssertionError("not enough arrangements")


class KendallTauB(unittest.TestCase):
    def test_by_hand(self):
        self.assertAlmostEqual(op_strata.kendall_tau_b([1, 2, 3, 4, 5], [1, 2, 3, 5, 4]), 0.8)
        # x ties one pair of 6: 5 concordant pairs, tau-b = 5 / sqrt(5 * 6)
        self.assertAlmostEqual(op_strata.kendall_tau_b([1, 2, 2, 3], [1, 2, 3, 4]), 5 / 30 ** 0.5)
        self.assertAlmostEqual(op_strata.kendall_tau_b([1, 2, 3], [3, 2, 1]), -1.0)

    def test_within_strata_weights_by_pairs_and_skips_small_strata(self):
        keys = ["a"] * 5 + ["b"] * 5 + ["c"] * 2
        x = [1, 2, 3, 4, 5] + [1, 2, 3, 4, 5] + [1, 2]
        y = [1, 2, 3, 4, 5] + [5, 4, 3, 2, 1] + [1, 2]
        tau, used = op_strata.within_strata(keys, x, y)
        self.assertAlmostEqual(tau, 0.0)
        self.assertEqual(used, 10)


class OnADatabase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "r.sqlite")
        con = sqlite3.connect(self.db)
        con.executescript("""
          CREATE TABLE runs (run_id INTEGER PRIMARY KEY, space TEXT);
          CREATE TABLE proxies (proxy_id INTEGER PRIMARY KEY, name TEXT);
          CREATE TABLE architectures (arch_id INTEGER PRIMARY KEY, space TEXT, arch_index INTEGER,
                                      arch TEXT);
          CREATE TABLE scores (run_id INTEGER, arch_id INTEGER, proxy_id INTEGER, rank_value REAL,
                               status TEXT);
          CREATE TABLE ground_truth (space TEXT, arch_index INTEGER, dataset TEXT, split TEXT,
                                     epochs INTEGER, value REAL);
          INSERT INTO runs VALUES (1, 'nb201');
          INSERT INTO proxies VALUES (1, 'p');""")
        convs = distinct_arrangements(["nor_conv_3x3"] * 3 + ["nor_conv_1x1"] * 3, 6)
        pools = distinct_arrangements(["avg_pool_3x3"] * 2 + ["nor_conv_3x3"] * 2
                                      + ["nor_conv_1x1"] * 2, 6)
        arch_id = 0
        # Conv cells are the accurate ones (90..95), pooling cells worse (80..85); the proxy
        # orders each group as its accuracy but puts every pooling cell above every conv cell.
        for group, truth0, score0 in ((convs, 90, 0), (pools, 80, 10)):
            for i, ops in enumerate(group):
                arch_id += 1
                con.execute("INSERT INTO architectures VALUES (?, 'nb201', ?, ?)",
                            (arch_id, arch_id, nb201_arch(ops)))
                con.execute("INSERT INTO scores VALUES (1, ?, 1, ?, 'ok')", (arch_id, score0 + i))
                for split, epochs in (("test", 200), ("test", 12), ("valid", 200)):
                    con.execute("INSERT INTO ground_truth VALUES ('nb201', ?, 'cifar10', ?, ?, ?)",
                                (arch_id, split, epochs, truth0 + i))
        con.execute("INSERT INTO scores VALUES (1, 1, 1, NULL, 'failed')")
        con.commit()
        con.close()

    def tearDown(self):
        self.dir.cleanup()

    def run_script(self, *args):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = op_strata.main(["--db", self.db, *args])
        return rc, out.getvalue()

    def test_overall_negative_within_strata_perfect(self):
        rc, out = self.run_script("--proxy", "p")
        self.assertEqual(rc, 0)
        self.assertIn("against cifar10 test 200-epoch accuracy, n = 12", out)
        # 36 cross-group pairs discordant, 30 within-group pairs concordant: (30 - 36) / 66
        self.assertIn(f"all cells: {(30 - 36) / 66:+.3f}", out)
        lines = {line.split()[0]: line.split() for line in out.splitlines()[3:]}
        # pool count against the proxy: 36 concordant pairs, 30 tied in the count:
        # 36 / sqrt(36 * 66); against accuracy the same, discordant.
        tau = f"{36 / (36 * 66) ** 0.5:.3f}"
        self.assertEqual(lines["avg_pool_3x3"][1:], ["+" + tau, "-" + tau, "+1.000", "12"])
        self.assertEqual(lines["all"][-2:], ["+1.000", "12"])

    def test_errors_name_what_is_missing(self):
        with self.assertRaises(SystemExit) as e:
            self.run_script("--proxy", "q")
        self.assertIn("has no scores of proxy 'q'", str(e.exception.code))
        with self.assertRaises(SystemExit) as e:
            op_strata.main(["--db", os.path.join(self.dir.name, "none.sqlite"), "--proxy", "p"])
        self.assertIn("none.sqlite: no such database", str(e.exception.code))


if __name__ == "__main__":
    unittest.main()
