import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.postgresql.util.PGInterval;

/**
 * An agent of one rollout version, on PgJDBC: claims due tasks of its own
 * version, does the work, and completes or retries each task with the claim's
 * token. The version goes to the claim as a parameter (as_version), which is
 * pooler-safe; setString binds it as varchar, which rollout_version takes.
 * The claim is one prepared statement, server-prepared once it has run
 * prepareThreshold times (5 by default; set prepareThreshold=0 behind a
 * transaction-mode pooler).
 */
public final class Agent {
    /** A claimed task: its key, its data, the claim's token and the row's version. */
    public record Task(long key, String dataKey, UUID token, long version, int claimCount) {}

    /** What the agent's work did with a task. */
    public interface Work {
        boolean succeeded(Task task) throws SQLException;
    }

    private final Connection conn;
    private final String criteria;
    private final String version;
    private final PreparedStatement claim;
    private final PreparedStatement complete;
    private final PreparedStatement retry;

    public Agent(Connection conn, String criteria, String version) throws SQLException {
        this.conn = conn;
        this.criteria = criteria;
        this.version = version;
        conn.setAutoCommit(true);
        claim = conn.prepareStatement(
            "SELECT task_q_key, data_key, claim_token, rollout_version, claim_count "
            + "FROM rollout_claim(?, ?, as_version => ?)");
        complete = conn.prepareStatement("SELECT rollout_complete(?, ?)");
        retry = conn.prepareStatement("SELECT rollout_retry(?, ?, ?)");
    }

    public PreparedStatement claimStatement() {
        return claim;
    }

    /** Claims up to maxRows due tasks of the agent's version; the claim commits at once. */
    public List<Task> claim(int maxRows) throws SQLException {
        claim.setString(1, criteria);
        claim.setInt(2, maxRows);
        claim.setString(3, version);
        List<Task> tasks = new ArrayList<>();
        try (ResultSet rs = claim.executeQuery()) {
            while (rs.next()) {
                // The token arrives as java.util.UUID; the version, an
                // extension type, as a PGobject whose text getLong parses.
                tasks.add(new Task(rs.getLong(1), rs.getString(2), rs.getObject(3, UUID.class),
                                   rs.getLong(4), rs.getInt(5)));
            }
        }
        return tasks;
    }

    /** False when the claim is no longer current (the lease passed to another claimer). */
    public boolean complete(Task task) throws SQLException {
        complete.setLong(1, task.key());
        complete.setObject(2, task.token());
        try (ResultSet rs = complete.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    public boolean retry(Task task, PGInterval delay) throws SQLException {
        retry.setLong(1, task.key());
        retry.setObject(2, task.token());
        retry.setObject(3, delay);
        try (ResultSet rs = retry.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * Claims and works until a claim comes back empty twice in a row, then
     * returns how many tasks it completed. Each completion commits together
     * with whatever the work wrote, so a task is done exactly when its
     * completion is.
     */
    public int runUntilIdle(int batch, Work work) throws SQLException {
        int completed = 0;
        int idle = 0;
        while (idle < 2) {
            List<Task> tasks = claim(batch);
            if (tasks.isEmpty()) {
                idle++;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return completed;
                }
                continue;
            }
            idle = 0;
            for (Task task : tasks) {
                conn.setAutoCommit(false);
                if (work.succeeded(task)) {
                    if (complete(task)) {
                        completed++;
                        conn.commit();
                    } else {
                        conn.rollback();  // not ours any more: undo the work's writes
                    }
                } else {
                    retry(task, new PGInterval(0, 0, 0, 0, 0, 0.0));
                    conn.commit();
                }
                conn.setAutoCommit(true);
            }
        }
        return completed;
    }
}
