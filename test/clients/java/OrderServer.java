import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * An order server of one rollout version, on PgJDBC. Every transaction it runs
 * sets the version for that transaction only (SET LOCAL, or set_config with
 * is_local = true), so nothing is left on a pooled server connection for the
 * next client. The tagging trigger writes the version into each order and
 * task; the server never names the version column.
 */
public final class OrderServer {
    private final Connection conn;
    private final String version;

    public OrderServer(Connection conn, String version) throws SQLException {
        this.conn = conn;
        this.version = version;
        conn.setAutoCommit(false);
    }

    /** SET LOCAL takes no bind parameter; set_config does, and is_local = true scopes it. */
    private void setVersionForThisTransaction() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT set_config('rollout.version', ?, true)")) {
            ps.setString(1, version);
            ps.execute();
        }
    }

    /** Orders and one task each, as two batches in one transaction. */
    public void createOrders(List<String> orderKeys, String transactionId) throws SQLException {
        setVersionForThisTransaction();
        try (PreparedStatement order = conn.prepareStatement("INSERT INTO orders (order_key) VALUES (?)");
             PreparedStatement task = conn.prepareStatement(
                 "INSERT INTO rollout_task_q (transaction_id, data_key) VALUES (?, ?)")) {
            for (String key : orderKeys) {
                order.setString(1, key);
                order.addBatch();
                task.setString(1, transactionId);
                task.setString(2, key);
                task.addBatch();
            }
            order.executeBatch();
            task.executeBatch();
        }
        conn.commit();
    }

    /** Tasks by COPY: the tagging trigger runs for COPY as for INSERT. */
    public long copyTasks(List<String> dataKeys, String transactionId) throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute("SET LOCAL rollout.version = '" + version.replace("'", "''") + "'");
        }
        StringBuilder rows = new StringBuilder();
        for (String key : dataKeys) {
            rows.append(transactionId).append('\t').append(key).append('\n');
        }
        CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
        try {
            long copied = copy.copyIn("COPY rollout_task_q (transaction_id, data_key) FROM STDIN",
                                      new StringReader(rows.toString()));
            conn.commit();
            return copied;
        } catch (java.io.IOException e) {
            conn.rollback();
            throw new SQLException(e);
        }
    }
}
