"""The psycopg 3 checks of make clients, and its agent for the concurrent run.

    python3 psycopg3_client.py checks DIRECT_DSN POOLED_DSN
    python3 psycopg3_client.py agent DSN CRITERIA VERSION NAME
"""
import sys
import uuid

import psycopg

from rollout_psycopg import RolloutVersion, register_rollout_version
from tap_lines import Checks

check = Checks("psycopg: ")


def sqlstate(fn):
    try:
        fn()
        return "none"
    except psycopg.Error as e:
        return e.sqlstate


CLAIM = ("SELECT task_q_key, data_key, claim_token, rollout_version, claim_count"
         " FROM rollout_claim(%s, %s, as_version => %s)")


def claim(conn, criteria, version, n, binary=False, prepare=None):
    """Claims up to n tasks; the version may be an int, a str or a RolloutVersion."""
    with conn.cursor(binary=binary) as cur:
        return cur.execute(CLAIM, [criteria, n, version], prepare=prepare).fetchall()


def complete(conn, key, token):
    return conn.execute("SELECT rollout_complete(%s, %s)", [key, token]).fetchone()[0]


def retry(conn, key, token, delay="0 seconds"):
    return conn.execute("SELECT rollout_retry(%s, %s, %s::interval)", [key, token, delay]).fetchone()[0]


def checks(dsn, pooled_dsn):
    with psycopg.connect(dsn) as conn:
        register_rollout_version(conn)
        with conn.transaction():
            conn.execute("SET LOCAL rollout.version = '10.1'")
            conn.execute("INSERT INTO rollout_task_q (transaction_id, data_key)"
                         " SELECT 'CLIENT.CHECK', 'P-' || g FROM generate_series(1, 12) g")
        conn.commit()
        conn.autocommit = True

        # Text mode, the version as a Python int (sent as int4 or int8).
        rows = claim(conn, "CLIENT.CHECK", 1010000000, 2)
        check("text mode: a claim with an int version", len(rows) == 2, rows)
        check("text mode: the version reads as int, the token as uuid.UUID",
              all(r[3] == 1010000000 and isinstance(r[2], uuid.UUID) for r in rows), rows)
        # Binary mode, the version as a str (sent as text) and prepared.
        for _ in range(3):
            rows += claim(conn, "CLIENT.CHECK", "10.1", 1, binary=True, prepare=True)
        check("binary mode, prepared: a claim with a str version; versions read as int",
              len(rows) == 5 and all(r[3] == 1010000000 for r in rows[2:]), rows)
        rows += claim(conn, "CLIENT.CHECK", RolloutVersion(1010000000), 1, binary=True)
        check("binary mode: a RolloutVersion parameter is sent as rollout_version", len(rows) == 6, rows)

        # Pipeline mode: completions and a retry sent together.
        with conn.pipeline():
            results = [conn.execute("SELECT rollout_complete(%s, %s)", [r[0], r[2]]) for r in rows[:5]]
            retried = conn.execute("SELECT rollout_retry(%s, %s, %s::interval)", [rows[5][0], rows[5][2], "1 hour"])
        check("pipeline mode: five completions and a retry", [c.fetchone()[0] for c in results] == [True] * 5
              and retried.fetchone()[0], None)
        check("a stale token is refused", complete(conn, rows[0][0], rows[0][2]) is False, True)

        # Binary COPY into a tagged table, the version column typed.
        conn.autocommit = False
        with conn.cursor() as cur:
            with cur.copy("COPY orders (order_key, rollout_version) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["text", "rollout_version"])
                copy.write_row(["P-COPY-1", RolloutVersion(1010000000)])
                copy.write_row(["P-COPY-2", RolloutVersion(940000000)])
        conn.commit()
        got = conn.execute("SELECT order_key, rollout_version FROM orders WHERE order_key LIKE 'P-COPY-%'"
                           " ORDER BY 1", binary=True).fetchall()
        check("binary COPY into the tagged table keeps the given versions",
              got == [("P-COPY-1", 1010000000), ("P-COPY-2", 940000000)], got)
        conn.commit()

        # The procedures commit: autocommit on.
        state = sqlstate(lambda: conn.execute("CALL rollout_phase_out('11.0', '10.1')"))
        conn.rollback()
        check("CALL rollout_phase_out with autocommit off fails with 2D000", state == "2D000", state)
        conn.autocommit = True
        row = conn.execute("CALL rollout_phase_out('11.0', '10.1')").fetchone()
        check("CALL rollout_phase_out with autocommit on retires the old version", row[2] == "retired", row)

    # Through PgBouncer in transaction mode: no prepared statements on 1.18.
    with psycopg.connect(pooled_dsn, prepare_threshold=None, autocommit=True) as conn:
        register_rollout_version(conn)
        with conn.transaction():
            conn.execute("SELECT set_config('rollout.version', %s, true)", ["10.1"])
            conn.execute("INSERT INTO rollout_task_q (transaction_id, data_key)"
                         " SELECT 'CLIENT.CHECK', 'PP-' || g FROM generate_series(1, 8) g")
        done = 0
        for _ in range(8):
            for r in claim(conn, "CLIENT.CHECK", 1010000000, 1):
                done += complete(conn, r[0], r[2])
        check("pooled: 8 claim + complete cycles with prepare_threshold=None", done == 8, done)
        with psycopg.connect(pooled_dsn, prepare_threshold=None, autocommit=True) as victim:
            conn.execute("SET rollout.version = '9.4'")
            state = sqlstate(lambda: victim.execute("INSERT INTO orders (order_key) VALUES ('PP-leaked')"))
            conn.execute("RESET rollout.version")
        check("pooled: a leaked session SET is refused in the next client's transaction (55000)",
              state == "55000", state)


def agent(dsn, criteria, version, name):
    """Claims and works until the queue of its version is empty; every tenth
    task fails its first attempt and is retried."""
    completed = 0
    idle = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        register_rollout_version(conn)
        while idle < 2:
            tasks = claim(conn, criteria, version, 50, prepare=True)
            if not tasks:
                idle += 1
                continue
            idle = 0
            for key, data_key, token, task_version, claim_count in tasks:
                with conn.transaction():
                    if key % 10 == 0 and claim_count == 1:
                        conn.execute("INSERT INTO client_retried (task_q_key, agent) VALUES (%s, %s)", [key, name])
                        retry(conn, key, token)
                        continue
                    conn.execute("INSERT INTO client_done (task_q_key, data_key, task_version, agent, agent_version)"
                                 " VALUES (%s, %s, %s, %s, %s)",
                                 [key, data_key, RolloutVersion(task_version), name, version])
                    if complete(conn, key, token):
                        completed += 1
                    else:
                        raise psycopg.Rollback()
    check(f"agent {name} of {version} ran without an error ({completed} tasks completed)", completed > 0, completed)


if __name__ == "__main__":
    if sys.argv[1] == "agent":
        agent(*sys.argv[2:6])
    else:
        checks(sys.argv[2], sys.argv[3])
    sys.exit(check.exit_status())
