"""The psycopg2 checks of make clients, and its agent for the concurrent run.

    python3 psycopg2_client.py checks DIRECT_DSN POOLED_DSN
    python3 psycopg2_client.py agent DSN CRITERIA VERSION NAME

psycopg2 interpolates parameters into the statement text on the client, so a
version passes as a literal ('10.1' or 1010000000) and a claim token needs
the UUID adapter (psycopg2.extras.register_uuid) to be sent and read as
uuid.UUID.
"""
import sys
import uuid

import psycopg2
import psycopg2.errors
from psycopg2.extras import execute_values, register_uuid

from tap_lines import Checks

register_uuid()
check = Checks("psycopg2: ")


CLAIM = ("SELECT task_q_key, data_key, claim_token, rollout_version, claim_count"
         " FROM rollout_claim(%s, %s, as_version => %s)")


def checks(dsn, pooled_dsn):
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        # SET LOCAL for this transaction, then many rows in one statement.
        cur.execute("SET LOCAL rollout.version = %s", ("9.4",))
        execute_values(cur, "INSERT INTO rollout_task_q (transaction_id, data_key) VALUES %s",
                       [("CLIENT.CHECK", f"Q-{i}") for i in range(5)])
        execute_values(cur, "INSERT INTO orders (order_key) VALUES %s", [(f"Q-{i}",) for i in range(5)])
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM orders WHERE order_key LIKE 'Q-%%' AND rollout_version = '9.4'")
        check("execute_values under SET LOCAL tags every row", cur.fetchone()[0] == 5)
        cur.execute("SELECT current_setting('rollout.version')")
        check("SET LOCAL leaves nothing on the connection", cur.fetchone()[0] == "")

    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(CLAIM, ("CLIENT.CHECK", 3, 940000000))
        rows = cur.fetchall()
        check("a claim with an int version; the token arrives as uuid.UUID",
              len(rows) == 3 and all(isinstance(r[2], uuid.UUID) for r in rows), rows)
        check("the version reads as the number's text, int() makes it an int",
              all(int(r[3]) == 940000000 for r in rows), rows)
        cur.execute("SELECT rollout_complete(%s, %s)", (rows[0][0], rows[0][2]))
        check("complete with a uuid.UUID token", cur.fetchone()[0] is True)
        cur.execute("SELECT rollout_retry(%s, %s, %s)", (rows[1][0], rows[1][2], "1 hour"))
        check("retry", cur.fetchone()[0] is True)

    # The procedures commit: autocommit on.
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("CALL rollout_retag('orders', '9.4', '10.1')")
        state = "none"
    except psycopg2.Error as e:
        state = e.pgcode
    conn.rollback()
    check("CALL rollout_retag with autocommit off fails with 2D000", state == "2D000", state)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CALL rollout_retag('orders', '9.4', '10.1')")
        moved = cur.fetchone()[0]
        check("CALL rollout_retag with autocommit on moves the rows", moved >= 5, moved)
    conn.close()

    # Through PgBouncer in transaction mode: psycopg2 prepares nothing, so it
    # needs no setting; the version goes with each transaction.
    conn = psycopg2.connect(pooled_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SET LOCAL rollout.version = %s", ("9.4",))
        execute_values(cur, "INSERT INTO rollout_task_q (transaction_id, data_key) VALUES %s",
                       [("CLIENT.CHECK", f"QP-{i}") for i in range(4)])
    conn.autocommit = True
    done = 0
    with conn.cursor() as cur:
        for _ in range(4):
            cur.execute(CLAIM, ("CLIENT.CHECK", 1, 940000000))
            for key, _, token, _, _ in cur.fetchall():
                cur.execute("SELECT rollout_complete(%s, %s)", (key, token))
                done += cur.fetchone()[0]
    check("pooled: 4 claim + complete cycles", done == 4, done)
    conn.close()


def agent(dsn, criteria, version, name):
    completed = 0
    idle = 0
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        while idle < 2:
            cur.execute(CLAIM, (criteria, 50, version))
            tasks = cur.fetchall()
            if not tasks:
                idle += 1
                continue
            idle = 0
            for key, data_key, token, task_version, claim_count in tasks:
                cur.execute("BEGIN")
                if key % 10 == 0 and claim_count == 1:
                    cur.execute("INSERT INTO client_retried (task_q_key, agent) VALUES (%s, %s)", (key, name))
                    cur.execute("SELECT rollout_retry(%s, %s, '0 seconds')", (key, token))
                    cur.execute("COMMIT")
                    continue
                cur.execute("INSERT INTO client_done (task_q_key, data_key, task_version, agent, agent_version)"
                            " VALUES (%s, %s, %s, %s, %s)", (key, data_key, task_version, name, version))
                cur.execute("SELECT rollout_complete(%s, %s)", (key, token))
                if cur.fetchone()[0]:
                    completed += 1
                    cur.execute("COMMIT")
                else:
                    cur.execute("ROLLBACK")
    conn.close()
    check(f"agent {name} of {version} ran without an error ({completed} tasks completed)", completed > 0, completed)


if __name__ == "__main__":
    if sys.argv[1] == "agent":
        agent(*sys.argv[2:6])
    else:
        checks(sys.argv[2], sys.argv[3])
    sys.exit(check.exit_status())
