-- What the demo driver (test/demo/driver) needs besides the reference schema:
-- its audit table and the views its final audit reads. Load it after
-- test/demo/reference_schema.sql:
--
--   CREATE EXTENSION rollout_ext;
--   \i test/demo/reference_schema.sql
--   \i test/demo/demo_audit.sql

-- ---------------------------------------------------------------------------
-- One row per row an application server created or an agent processed,
-- written in the same transaction as that work (a rolled-back piece of work
-- leaves no row). Deliberately NOT tagged: it is the evidence of who did
-- what, and a phase-out must not rewrite it.
-- ---------------------------------------------------------------------------

CREATE TABLE demo_audit (
	audit_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	recorded_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
	agent_name       text NOT NULL,             -- SCHEDULE_ORDER, ..., or APP_SERVER
	agent_instance   text NOT NULL,             -- V1#1, V2#2, V1#1r (restarted after a kill)
	agent_version    rollout_version NOT NULL,  -- the rollout.version of its session
	criteria_id      text NOT NULL,             -- the criteria it claimed, or CREATE_ORDER
	row_key          text NOT NULL,             -- task_q_key or the driver table's key
	row_version      rollout_version,           -- the row's version as the claim returned it
	order_header_key text,
	claim_token      uuid,
	outcome          text NOT NULL CHECK (outcome IN (
		'created',      -- an application server created the order
		'completed',    -- work done, claim ended with no further work
		'rescheduled',  -- work done, row due again later (Order Monitor)
		'retried',      -- failed on purpose (or waits), handed back with a delay
		'lost_lease',   -- completion refused: the claim token was no longer current
		'error',        -- an unexpected error; the work was rolled back and the row handed back
		'abandoned')),  -- claimed by an agent that was killed before finishing it
	detail           text
);
CREATE INDEX demo_audit_row ON demo_audit (agent_name, row_key);
COMMENT ON TABLE demo_audit IS
	'demo driver: every row each application server and agent created or processed, with both versions';

-- ---------------------------------------------------------------------------
-- The final state of every order, per document type:
--   every line shipped (3700);
--   sales (0001), returns (0003), purchase orders (0005): closed by CLOSE_ORDER;
--   sales and returns: invoice published (01), every charge request closed,
--     payment status PAID;
--   no pending collection and no pending alert.
-- Transfer orders (0006) have no multi-version CLOSE_ORDER transaction: shipped is final.
-- ---------------------------------------------------------------------------

CREATE VIEW demo_order_state AS
SELECT h.order_header_key, h.document_type, h.rollout_version,
       l.lines, l.not_shipped, i.invoices, i.unpublished, c.charges, c.open_charges,
       h.order_closed, h.payment_status,
       l.lines > 0 AND l.not_shipped = 0
       AND (h.document_type NOT IN ('0001', '0003', '0005') OR h.order_closed)
       AND (h.document_type NOT IN ('0001', '0003')
            OR (h.payment_status = 'PAID' AND i.invoices > 0 AND i.unpublished = 0
                AND c.charges > 0 AND c.open_charges = 0))
       AND h.collection_due_ts IS NULL AND h.next_alert_ts IS NULL AS final
  FROM yfs_order_header h
 CROSS JOIN LATERAL (SELECT count(*) AS lines, count(*) FILTER (WHERE status <> 3700) AS not_shipped
                       FROM yfs_order_line WHERE order_header_key = h.order_header_key) l
 CROSS JOIN LATERAL (SELECT count(*) AS invoices, count(*) FILTER (WHERE status <> '01') AS unpublished
                       FROM yfs_order_invoice WHERE order_header_key = h.order_header_key) i
 CROSS JOIN LATERAL (SELECT count(*) AS charges, count(*) FILTER (WHERE status <> 'CLOSED') AS open_charges
                       FROM yfs_charge_transaction WHERE order_header_key = h.order_header_key) c;
COMMENT ON VIEW demo_order_state IS 'demo driver: whether each order reached its final state';

-- Work still waiting in any queue, per table, transaction and version.
CREATE VIEW demo_unfinished_work AS
SELECT 'rollout_task_q' AS tbl, transaction_id AS work, rollout_version, count(*) AS rows
  FROM rollout_task_q GROUP BY 2, 3
UNION ALL
SELECT 'yfs_async_request', api_name, rollout_version, count(*)
  FROM yfs_async_request GROUP BY 2, 3
UNION ALL
SELECT 'yfs_order_invoice', 'SEND_INVOICE', rollout_version, count(*)
  FROM yfs_order_invoice WHERE send_due_ts IS NOT NULL GROUP BY 3
UNION ALL
SELECT 'yfs_charge_transaction', execution_transaction_id, rollout_version, count(*)
  FROM yfs_charge_transaction WHERE execution_due_ts IS NOT NULL GROUP BY 2, 3
UNION ALL
SELECT 'yfs_order_header', collection_transaction_id, rollout_version, count(*)
  FROM yfs_order_header WHERE collection_due_ts IS NOT NULL GROUP BY 2, 3
UNION ALL
SELECT 'yfs_order_header', 'ORDER_MONITOR', rollout_version, count(*)
  FROM yfs_order_header WHERE next_alert_ts IS NOT NULL GROUP BY 3;
COMMENT ON VIEW demo_unfinished_work IS 'demo driver: rows still due or queued in any agent''s table';

-- Rows derived from an order that do not carry the order's version: lines,
-- invoices, charge requests, tasks, async requests (message = order key) and
-- chained orders (key 'chn-' || parent key).
CREATE VIEW demo_version_mismatch AS
SELECT 'yfs_order_line' AS tbl, d.order_line_key AS row_key, d.rollout_version,
       h.order_header_key, h.rollout_version AS order_version
  FROM yfs_order_line d JOIN yfs_order_header h USING (order_header_key)
 WHERE d.rollout_version IS DISTINCT FROM h.rollout_version
UNION ALL
SELECT 'yfs_order_invoice', d.order_invoice_key, d.rollout_version, h.order_header_key, h.rollout_version
  FROM yfs_order_invoice d JOIN yfs_order_header h USING (order_header_key)
 WHERE d.rollout_version IS DISTINCT FROM h.rollout_version
UNION ALL
SELECT 'yfs_charge_transaction', d.charge_transaction_key, d.rollout_version, h.order_header_key,
       h.rollout_version
  FROM yfs_charge_transaction d JOIN yfs_order_header h USING (order_header_key)
 WHERE d.rollout_version IS DISTINCT FROM h.rollout_version
UNION ALL
SELECT 'rollout_task_q', d.task_q_key::text, d.rollout_version, h.order_header_key, h.rollout_version
  FROM rollout_task_q d JOIN yfs_order_header h ON h.order_header_key = d.data_key
 WHERE d.rollout_version IS DISTINCT FROM h.rollout_version
UNION ALL
SELECT 'yfs_async_request', d.async_request_key, d.rollout_version, h.order_header_key, h.rollout_version
  FROM yfs_async_request d JOIN yfs_order_header h ON h.order_header_key = d.message
 WHERE d.rollout_version IS DISTINCT FROM h.rollout_version
UNION ALL
SELECT 'yfs_order_header (chained)', d.order_header_key, d.rollout_version, h.order_header_key,
       h.rollout_version
  FROM yfs_order_header d JOIN yfs_order_header h ON d.order_header_key = 'chn-' || h.order_header_key
 WHERE d.rollout_version IS DISTINCT FROM h.rollout_version;
COMMENT ON VIEW demo_version_mismatch IS
	'demo driver: derived rows whose version differs from their order''s';
