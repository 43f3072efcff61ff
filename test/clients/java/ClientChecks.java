import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.postgresql.PGStatement;
import org.postgresql.util.PGobject;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The PgJDBC checks of make clients, in TAP's "ok - ..." / "not ok - ..." lines.
 *
 *   java ClientChecks checks DIRECT_URL POOLED_URL
 *   java ClientChecks agents URL CRITERIA VERSION THREADS
 */
public final class ClientChecks {
    private static int failures = 0;

    private static void check(String what, boolean ok, Object detail) {
        if (!ok) {
            failures++;
        }
        System.out.println((ok ? "ok" : "not ok") + " - java: " + what + (ok ? "" : " (got " + detail + ")"));
    }

    private interface SqlAction {
        void run() throws SQLException;
    }

    /** The SQLSTATE an action fails with, or "none". */
    private static String sqlState(SqlAction action) {
        try {
            action.run();
            return "none";
        } catch (SQLException e) {
            return e.getSQLState();
        }
    }

    private static String one(Connection conn, String sql) throws SQLException {
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("agents")) {
            runAgents(args[1], args[2], args[3], Integer.parseInt(args[4]));
        } else {
            checks(args[1], args[2]);
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    private static void checks(String url, String pooledUrl) throws SQLException {
        try (Connection conn = DriverManager.getConnection(url + "&reWriteBatchedInserts=true")) {
            OrderServer server = new OrderServer(conn, "10.1");
            server.createOrders(List.of("J-1", "J-2", "J-3"), "CLIENT.CHECK");
            check("batch inserts (reWriteBatchedInserts) under set_config(..., true) tag orders and tasks",
                  one(conn, "SELECT string_agg(DISTINCT rollout_version_format(rollout_version), ',') FROM "
                            + "(SELECT rollout_version FROM orders WHERE order_key LIKE 'J-%' UNION ALL "
                            + "SELECT rollout_version FROM rollout_task_q WHERE data_key LIKE 'J-%') v")
                      .equals("10.1.0.0.0.0"), "versions");
            conn.commit();
            long copied = server.copyTasks(List.of("J-C1", "J-C2"), "CLIENT.CHECK");
            check("CopyManager COPY under SET LOCAL tags the tasks", copied == 2
                  && one(conn, "SELECT count(*) FROM rollout_task_q WHERE data_key LIKE 'J-C%' "
                               + "AND rollout_version = '10.1'").equals("2"), copied);
            check("the version is not left on the connection after commit",
                  one(conn, "SELECT coalesce(current_setting('rollout.version'), '')").isEmpty(), "a version");
            conn.commit();

            conn.setAutoCommit(true);
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("SELECT rollout_version FROM orders WHERE order_key = 'J-1'")) {
                rs.next();
                Object value = rs.getObject(1);
                check("getObject on rollout_version gives a PGobject of that type",
                      value instanceof PGobject && ((PGobject) value).getType().equals("rollout_version"), value);
                check("getLong on rollout_version gives the number", rs.getLong(1) == 1010000000L, rs.getLong(1));
            }

            // A version bound as varchar (setString), bigint (setLong) or integer (setInt).
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM rollout_claim(?, ?, ?)")) {
                ps.setString(1, "CLIENT.CHECK");
                ps.setInt(2, 1);
                ps.setString(3, "10.1");
                check("claim with the version bound by setString", sqlState(ps::executeQuery).equals("none"), "error");
                ps.setLong(3, 1010000000L);
                check("claim with the version bound by setLong", sqlState(ps::executeQuery).equals("none"), "error");
                ps.setInt(3, 1010000000);
                check("claim with the version bound by setInt", sqlState(ps::executeQuery).equals("none"), "error");
            }
            try (PreparedStatement ps = conn.prepareStatement(
                     "INSERT INTO orders (order_key, rollout_version) VALUES (?, ?)")) {
                ps.setString(1, "J-explicit");
                ps.setString(2, "10.1");
                check("an insert binds the version column by setString", sqlState(ps::executeUpdate).equals("none"),
                      "error");
            }

            // The cycle, with a server-prepared claim.
            Agent agent = new Agent(conn, "CLIENT.CHECK", "10.1");
            List<Agent.Task> tasks = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                tasks.addAll(agent.claim(1));
            }
            check("the claim is server-prepared after prepareThreshold executions",
                  agent.claimStatement().unwrap(PGStatement.class).isUseServerPrepare(), "not prepared");
            check("claims hand out tasks of the agent's version, the token as java.util.UUID",
                  tasks.size() >= 2 && tasks.stream().allMatch(t -> t.version() == 1010000000L && t.token() != null),
                  tasks);
            Agent.Task first = tasks.get(0);
            check("complete with the token returns true", agent.complete(first), false);
            check("complete again returns false (stale)", !agent.complete(first), true);
            check("retry with a PGInterval returns true",
                  agent.retry(tasks.get(1), new org.postgresql.util.PGInterval("1 hour")), false);

            // The tagging error names its table and column in the error's fields.
            conn.setAutoCommit(true);
            try (Statement s = conn.createStatement()) {
                s.execute("INSERT INTO orders (order_key) VALUES ('J-untagged')");
                check("an insert without a version fails", false, "success");
            } catch (PSQLException e) {
                ServerErrorMessage m = e.getServerErrorMessage();
                check("the tagging error is 55000 with getTable() and getColumn() set",
                      e.getSQLState().equals("55000") && "orders".equals(m.getTable())
                          && "rollout_version".equals(m.getColumn()),
                      e.getSQLState() + " " + m.getTable() + " " + m.getColumn());
            }

            // The library is preloaded (the documented installation), so a
            // mistyped version fails at the SET, not at a later insert.
            String typo = sqlState(() -> conn.createStatement().execute("SET rollout.version = '10.1.0.111'"));
            check("a mistyped SET rollout.version fails at once with 22P02", typo.equals("22P02"), typo);

            // The procedures commit: autocommit on, as a plain CALL.
            conn.setAutoCommit(false);
            check("CALL rollout_retag with autocommit off fails with 2D000",
                  sqlState(() -> conn.createStatement().execute("CALL rollout_retag('orders', '10.1', '11.0')"))
                      .equals("2D000"), "another state");
            conn.rollback();
            conn.setAutoCommit(true);
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("CALL rollout_retag('orders', '10.1', '11.0')")) {
                rs.next();
                check("CALL rollout_retag with autocommit on moves the rows", rs.getLong("moved") >= 4,
                      rs.getLong("moved"));
            }
        }
        pooled(pooledUrl);
    }

    /** Through PgBouncer in transaction mode, with prepareThreshold=0 (no named statements). */
    private static void pooled(String pooledUrl) throws SQLException {
        try (Connection conn = DriverManager.getConnection(pooledUrl + "&prepareThreshold=0")) {
            OrderServer server = new OrderServer(conn, "10.1");
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                keys.add("JP-" + i);
            }
            server.createOrders(keys, "CLIENT.CHECK");
            Agent agent = new Agent(conn, "CLIENT.CHECK", "10.1");
            int completed = 0;
            for (int i = 0; i < 12; i++) {
                for (Agent.Task task : agent.claim(1)) {
                    completed += agent.complete(task) ? 1 : 0;
                }
            }
            check("pooled: 12 claim + complete cycles with prepareThreshold=0", completed == 12, completed);
        }
        // A session SET by one client, then an insert by another on the same
        // server connection (pool size 1): refused under version_scope = transaction.
        try (Connection leaker = DriverManager.getConnection(pooledUrl + "&prepareThreshold=0");
             Connection victim = DriverManager.getConnection(pooledUrl + "&prepareThreshold=0")) {
            leaker.createStatement().execute("SET rollout.version = '9.4'");
            String state = sqlState(() -> victim.createStatement()
                                              .execute("INSERT INTO orders (order_key) VALUES ('JP-leaked')"));
            check("pooled: a leaked session SET is refused in the next client's transaction (55000)",
                  state.equals("55000"), state);
            leaker.createStatement().execute("RESET rollout.version");
        }
    }

    /** THREADS agents of VERSION, each on its own connection, until the queue is empty. */
    private static void runAgents(String url, String criteria, String version, int threads) throws Exception {
        AtomicInteger completed = new AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String name = "java-" + version + "-" + t;
            Thread worker = new Thread(() -> {
                try (Connection conn = DriverManager.getConnection(url)) {
                    Agent agent = new Agent(conn, criteria, version);
                    PreparedStatement done = conn.prepareStatement(
                        "INSERT INTO client_done (task_q_key, data_key, task_version, agent, agent_version) "
                        + "VALUES (?, ?, ?, ?, ?)");
                    PreparedStatement retried = conn.prepareStatement(
                        "INSERT INTO client_retried (task_q_key, agent) VALUES (?, ?)");
                    completed.addAndGet(agent.runUntilIdle(50, task -> {
                        // Every tenth task fails its first attempt.
                        if (task.key() % 10 == 0 && task.claimCount() == 1) {
                            retried.setLong(1, task.key());
                            retried.setString(2, name);
                            retried.executeUpdate();
                            return false;
                        }
                        done.setLong(1, task.key());
                        done.setString(2, task.dataKey());
                        done.setLong(3, task.version());
                        done.setString(4, name);
                        done.setString(5, version);
                        done.executeUpdate();
                        return true;
                    }));
                } catch (SQLException e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        for (Throwable e : errors) {
            System.out.println("# " + e);
        }
        check(threads + " agent threads of " + version + " ran without an error (" + completed.get()
              + " tasks completed)", errors.isEmpty() && completed.get() > 0, errors.size() + " errors");
    }
}
