-- The reference system's multi-version agents and transactions on the demo
-- schema (test/demo/reference_schema.sql): every criteria, claimed by a V1
-- (9.4) and a V2 (10.1) agent, hands each exactly the due rows of its own
-- version, and leaves other versions' and untagged rows alone.
-- Quietly, so the output is the same whether or not an earlier test created it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rollout_ext;
RESET client_min_messages;

-- The schema's own statements and their (void) results are not echoed; any
-- error or notice still shows.
\set ECHO none
\o /dev/null
\i test/demo/reference_schema.sql
\o
\set ECHO all

-- What the schema set up: a tagging trigger on every table ...
SELECT string_agg(c.relname, ', ' ORDER BY c.relname) AS tagged_tables
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'rollout_tag' AND (c.relname LIKE 'yfs\_%' OR c.relname = 'rollout_task_q');
-- ... and 28 criteria: the 19 transactions and the 9 agents.
SELECT criteria_id, transaction_id, queue_table, due_column, transaction_column, hold_column,
       token_column, multi_version AS multi, base_version AS base, batch_size
  FROM rollout_criteria ORDER BY queue_table::text, criteria_id;

-- ---------------------------------------------------------------------------
-- Data
-- ---------------------------------------------------------------------------

-- Rows from before the rollout (tagging not yet installed): a legacy sales
-- order with its documents and two async requests, all untagged. The replica
-- role skips the tagging triggers, as if they did not exist yet.
SET session_replication_role = replica;
INSERT INTO yfs_order_header (order_header_key, enterprise_code, document_type, order_no,
                              order_date, payment_status, next_alert_ts, collection_due_ts)
VALUES ('ord-0001-09', 'ACME', '0001', 'SO-09', '2020-03-01', 'AWAITING_AUTH',
        '2020-03-02', '2020-03-02');
INSERT INTO yfs_async_request (async_request_key, enterprise_code, api_name, available_date)
VALUES ('async-12', 'ACME', 'changeOrder', '2020-03-01'),
       ('async-13', 'ACME', 'createShipment', '2020-03-01');
RESET session_replication_role;

-- A V1 application server (9.4) creates orders 01-04 of every document type,
-- a V2 server (10.1) orders 05-07, and a V3 canary (11.0) sales order 08.
-- Per order number n:
--   hold_flag                   n = 2, 6
--   collection (0001, 0003)     due, but in the future for n = 3, 7
--   next_alert_ts               none for n = 1, 5; in the future for n = 4, 7
CREATE FUNCTION create_orders(doc_types text[], first_no int, last_no int)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO yfs_order_header (order_header_key, enterprise_code, document_type, order_no,
	                              order_date, total_amount, payment_status, hold_flag,
	                              next_alert_ts, collection_due_ts)
	SELECT format('ord-%s-%s', d, to_char(n, 'FM00')), 'ACME', d,
	       CASE d WHEN '0001' THEN 'SO' WHEN '0002' THEN 'PL' WHEN '0003' THEN 'RO'
	              WHEN '0005' THEN 'PO' WHEN '0006' THEN 'TO' ELSE 'QT' END || '-' || to_char(n, 'FM00'),
	       timestamptz '2020-03-01' + n * interval '1 hour', 100 * n,
	       CASE WHEN d IN ('0001', '0003') THEN 'AWAITING_AUTH' END,
	       n IN (2, 6),
	       CASE WHEN n IN (1, 5) THEN NULL
	            WHEN n IN (4, 7) THEN now() + interval '1 day'
	            ELSE timestamptz '2020-03-02' + n * interval '1 minute' END,
	       CASE WHEN d NOT IN ('0001', '0003') THEN NULL
	            WHEN n IN (3, 7) THEN now() + interval '1 day'
	            ELSE timestamptz '2020-03-02' + n * interval '1 minute' END
	  FROM unnest(doc_types) d, generate_series(first_no, last_no) n
$$;
SET rollout.version = '9.4';
SELECT create_orders('{0001,0002,0003,0005,0006,0015}', 1, 4);
SET rollout.version = '10.1';
SELECT create_orders('{0001,0002,0003,0005,0006,0015}', 5, 7);
SET rollout.version = '11.0';
SELECT create_orders('{0001}', 8, 8);

-- Async requests: V1 creates 01-05, V2 06-10, the canary 11. Request 02 failed
-- five times (no more retries), 04 and 08 wait for their reprocess interval.
CREATE FUNCTION create_async_requests(first_no int, last_no int)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO yfs_async_request (async_request_key, enterprise_code, api_name, is_service,
	                               error_count, available_date)
	SELECT format('async-%s', to_char(n, 'FM00')), 'ACME',
	       (ARRAY['changeOrder', 'createShipment', 'SyncInventoryService'])[n % 3 + 1], n % 3 = 2,
	       CASE n WHEN 2 THEN 5 WHEN 6 THEN 2 ELSE 0 END,
	       CASE WHEN n IN (4, 8) THEN now() + interval '10 minutes'
	            ELSE timestamptz '2020-03-02' + n * interval '1 minute' END
	  FROM generate_series(first_no, last_no) n
$$;
SET rollout.version = '9.4';
SELECT create_async_requests(1, 5);
SET rollout.version = '10.1';
SELECT create_async_requests(6, 10);
SET rollout.version = '11.0';
SELECT create_async_requests(11, 11);

-- The documents and tasks of the given orders, created by agents of any
-- version: here by a session with no version at all, so every version below
-- comes from the row's order. Per order number n:
--   lines      two per order
--   invoices   one per sales or return order, status 00; 04 already published,
--              06 due in the future
--   charges    sales orders: an authorization and a charge; returns: a refund
--              charge. The charge of 01 is closed, the authorization of 05 waits
--              for a retry.
--   tasks      one per task-queue transaction of the order's document type;
--              02's are held, 07's are due in the future
CREATE FUNCTION create_order_documents(orders text[])
RETURNS void LANGUAGE sql AS $$
	INSERT INTO yfs_order_line (order_line_key, order_header_key, prime_line_no, item_id,
	                            ordered_qty, unit_price, status)
	SELECT h.order_header_key || '-' || l, h.order_header_key, l, 'ITEM-' || l, l * 2, 50,
	       CASE WHEN h.document_type = '0015' THEN 1100 WHEN l = 1 THEN 3700 ELSE 1500 END
	  FROM yfs_order_header h, generate_series(1, 2) l
	 WHERE h.order_header_key = ANY (orders);

	INSERT INTO yfs_order_invoice (order_invoice_key, order_header_key, invoice_no, invoice_type,
	                               status, total_amount, send_due_ts)
	SELECT 'inv-' || h.order_header_key, h.order_header_key, 'INV-' || h.order_header_key,
	       CASE h.document_type WHEN '0003' THEN 'RETURN' ELSE 'SHIPMENT' END,
	       CASE WHEN h.order_no LIKE '%-04' THEN '01' ELSE '00' END, h.total_amount,
	       CASE WHEN h.order_no LIKE '%-04' THEN NULL
	            WHEN h.order_no LIKE '%-06' THEN now() + interval '1 hour'
	            ELSE timestamptz '2020-03-03' END
	  FROM yfs_order_header h
	 WHERE h.order_header_key = ANY (orders) AND h.document_type IN ('0001', '0003');

	INSERT INTO yfs_charge_transaction (charge_transaction_key, order_header_key, charge_type,
	                                    status, request_amount, execution_transaction_id,
	                                    execution_due_ts)
	SELECT format('chg-%s-%s', h.order_header_key, lower(t)), h.order_header_key, t,
	       CASE WHEN t = 'CHARGE' AND h.order_no LIKE '%-01' THEN 'CLOSED' ELSE 'OPEN' END,
	       CASE h.document_type WHEN '0003' THEN -h.total_amount ELSE h.total_amount END,
	       CASE h.document_type WHEN '0003' THEN 'PAYMENT_EXECUTION.0003' ELSE 'PAYMENT_EXECUTION' END,
	       CASE WHEN t = 'CHARGE' AND h.order_no LIKE '%-01' THEN NULL
	            WHEN t = 'AUTHORIZATION' AND h.order_no LIKE '%-05' THEN now() + interval '1 hour'
	            ELSE timestamptz '2020-03-03' END
	  FROM yfs_order_header h,
	       unnest(CASE h.document_type WHEN '0001' THEN '{AUTHORIZATION,CHARGE}'::text[]
	                                   ELSE '{CHARGE}' END) t
	 WHERE h.order_header_key = ANY (orders) AND h.document_type IN ('0001', '0003');

	INSERT INTO rollout_task_q (transaction_id, data_key, data_type, available_date, hold_flag)
	SELECT x.transaction_id, h.order_header_key, 'OrderHeaderKey',
	       CASE WHEN h.order_no LIKE '%-07' THEN now() + interval '1 hour'
	            ELSE timestamptz '2020-03-04' END,
	       h.order_no LIKE '%-02'
	  FROM yfs_order_header h
	  JOIN (VALUES ('SCHEDULE.0001', '0001'), ('SCHEDULE.0003', '0003'),
	               ('SCHEDULE.0005', '0005'), ('SCHEDULE.0006', '0006'),
	               ('RELEASE.0001', '0001'), ('RELEASE.0005', '0005'), ('RELEASE.0006', '0006'),
	               ('CLOSE_ORDER.0001', '0001'), ('CLOSE_ORDER.0002', '0002'),
	               ('CLOSE_ORDER.0003', '0003'), ('CLOSE_ORDER.0005', '0005'),
	               ('CLOSE_ORDER.0015', '0015'),
	               ('CHAINED_ORDER_CREATE', '0001'), ('CHAINED_ORDER_CREATE.0005', '0005'),
	               ('CHAINED_ORDER_CREATE.0006', '0006')) x (transaction_id, document_type)
	    ON x.document_type = h.document_type
	 WHERE h.order_header_key = ANY (orders)
	 ORDER BY h.order_header_key, x.transaction_id;
$$;
RESET rollout.version;
SELECT create_order_documents(array_agg(order_header_key))
  FROM yfs_order_header WHERE rollout_version IS NOT NULL;
-- The legacy order's documents predate tagging too.
SET session_replication_role = replica;
SELECT create_order_documents('{ord-0001-09}');
RESET session_replication_role;

-- Rows per table and version ...
SELECT table_name, coalesce(rollout_version_format(rollout_version), 'untagged') AS version,
       count(*) AS rows
  FROM (SELECT 'yfs_order_header' AS table_name, rollout_version FROM yfs_order_header
        UNION ALL SELECT 'yfs_order_line', rollout_version FROM yfs_order_line
        UNION ALL SELECT 'yfs_order_invoice', rollout_version FROM yfs_order_invoice
        UNION ALL SELECT 'yfs_charge_transaction', rollout_version FROM yfs_charge_transaction
        UNION ALL SELECT 'yfs_async_request', rollout_version FROM yfs_async_request
        UNION ALL SELECT 'rollout_task_q', rollout_version FROM rollout_task_q) r
 GROUP BY table_name, rollout_version
 ORDER BY table_name, rollout_version NULLS FIRST;
-- ... and every derived row carries exactly its order's version.
SELECT table_name, count(*) AS rows,
       count(*) FILTER (WHERE child_version IS DISTINCT FROM order_version) AS not_order_version
  FROM (SELECT 'yfs_order_line' AS table_name, c.rollout_version AS child_version,
               h.rollout_version AS order_version
          FROM yfs_order_line c JOIN yfs_order_header h USING (order_header_key)
        UNION ALL
        SELECT 'yfs_order_invoice', c.rollout_version, h.rollout_version
          FROM yfs_order_invoice c JOIN yfs_order_header h USING (order_header_key)
        UNION ALL
        SELECT 'yfs_charge_transaction', c.rollout_version, h.rollout_version
          FROM yfs_charge_transaction c JOIN yfs_order_header h USING (order_header_key)
        UNION ALL
        SELECT 'rollout_task_q', c.rollout_version, h.rollout_version
          FROM rollout_task_q c JOIN yfs_order_header h ON h.order_header_key = c.data_key) r
 GROUP BY table_name ORDER BY table_name;

-- ---------------------------------------------------------------------------
-- Claims: every criteria, as V1 and as V2
-- ---------------------------------------------------------------------------

-- Due rows of a criteria, found independently of the claim functions: due,
-- not held, of the criteria's transaction (when it has a transaction column).
CREATE TABLE due_rows (criteria_id text, row_key text, row_version rollout_version);
CREATE FUNCTION record_due_rows(c rollout_criteria) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('INSERT INTO due_rows SELECT $1, q.%I::text, q.%I FROM %s q WHERE q.%I <= now()',
	               c.key_column, c.version_column, c.queue_table, c.due_column)
	     || CASE WHEN c.transaction_column IS NULL THEN ''
	             ELSE format(' AND q.%I = $2', c.transaction_column) END
	     || CASE WHEN c.hold_column IS NULL THEN ''
	             ELSE format(' AND NOT q.%I', c.hold_column) END
		USING c.criteria_id, c.transaction_id;
END
$$;

-- What one claim by an agent of the given version returned.
CREATE TABLE claimed_rows (criteria_id text, claimer rollout_version, row_key text,
                           row_version rollout_version);
CREATE FUNCTION claim_as(c rollout_criteria, claimer rollout_version) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	-- The agent's connection runs as its version (SET LOCAL).
	PERFORM set_config('rollout.version', claimer::text, true);
	IF c.queue_table = 'rollout_task_q'::regclass THEN
		INSERT INTO claimed_rows
		SELECT c.criteria_id, claimer, t.task_q_key::text, t.rollout_version
		  FROM rollout_claim(c.criteria_id) t;
	ELSE
		EXECUTE format('INSERT INTO claimed_rows SELECT $1, $2, r.%I::text, r.%I '
		               'FROM rollout_claim_rows($1, NULL::%s) r',
		               c.key_column, c.version_column, c.queue_table)
			USING c.criteria_id, claimer;
	END IF;
	PERFORM set_config('rollout.version', '', true);
END
$$;

-- Ends every claim: claimed rows are due again and carry no token, so each
-- criteria starts from the same data.
CREATE FUNCTION release_claims() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT DISTINCT queue_table, due_column, token_column FROM rollout_criteria LOOP
		EXECUTE format('UPDATE %s SET %I = %L, %I = NULL WHERE %I IS NOT NULL',
		               c.queue_table, c.due_column, '2020-03-05', c.token_column, c.token_column);
	END LOOP;
END
$$;

-- For each criteria: note its due rows, claim as V1, then as V2, then release.
DO $$
DECLARE
	c rollout_criteria;
BEGIN
	FOR c IN SELECT * FROM rollout_criteria ORDER BY criteria_id LOOP
		PERFORM record_due_rows(c);
		PERFORM claim_as(c, '9.4');
		PERFORM claim_as(c, '10.1');
		PERFORM release_claims();
	END LOOP;
END
$$;

-- One row per criteria:
--   v1_due / v2_due      due rows of the version before the claims
--   v1_got / v2_got      rows the version's claim returned
--   wrong_version        claimed rows not of the claimer's version
--   mismatch             rows claimed but not due for the claimer, or due for
--                        it but not claimed (symmetric difference)
--   twice                rows claimed more than once
--   other_due            due rows of other versions (11.0) or untagged, which
--                        neither V1 nor V2 may take
CREATE VIEW claim_report AS
SELECT c.criteria_id, c.queue_table,
       (SELECT count(*) FROM due_rows d WHERE d.criteria_id = c.criteria_id AND d.row_version = '9.4') AS v1_due,
       (SELECT count(*) FROM claimed_rows r WHERE r.criteria_id = c.criteria_id AND r.claimer = '9.4') AS v1_got,
       (SELECT count(*) FROM due_rows d WHERE d.criteria_id = c.criteria_id AND d.row_version = '10.1') AS v2_due,
       (SELECT count(*) FROM claimed_rows r WHERE r.criteria_id = c.criteria_id AND r.claimer = '10.1') AS v2_got,
       (SELECT count(*) FROM claimed_rows r
         WHERE r.criteria_id = c.criteria_id AND r.row_version IS DISTINCT FROM r.claimer) AS wrong_version,
       (SELECT count(*) FROM
          ((SELECT claimer, row_key FROM claimed_rows r WHERE r.criteria_id = c.criteria_id
            EXCEPT
            SELECT row_version, row_key FROM due_rows d WHERE d.criteria_id = c.criteria_id)
           UNION ALL
           (SELECT row_version, row_key FROM due_rows d
             WHERE d.criteria_id = c.criteria_id AND d.row_version IN ('9.4', '10.1')
            EXCEPT
            SELECT claimer, row_key FROM claimed_rows r WHERE r.criteria_id = c.criteria_id)) x) AS mismatch,
       (SELECT count(*) - count(DISTINCT row_key) FROM claimed_rows r
         WHERE r.criteria_id = c.criteria_id) AS twice,
       (SELECT count(*) FROM due_rows d WHERE d.criteria_id = c.criteria_id
           AND (d.row_version IS NULL OR d.row_version NOT IN ('9.4', '10.1'))) AS other_due
  FROM rollout_criteria c;

SELECT * FROM claim_report ORDER BY queue_table::text, criteria_id;

-- All 28 criteria: each version got all of its due rows and nothing else.
SELECT count(*) AS criteria,
       count(*) FILTER (WHERE v1_got = v1_due AND v2_got = v2_due AND v1_due > 0 AND v2_due > 0
                          AND wrong_version = 0 AND mismatch = 0 AND twice = 0) AS exact,
       sum(other_due) AS other_due, sum(v1_due + v2_due) AS due, sum(v1_got + v2_got) AS claimed
  FROM claim_report;

-- The same through the session setting, as an agent would run it: a V1 and a
-- V2 schedule agent, a V1 and a V2 order monitor.
SET rollout.version = '9.4';
SELECT data_key, rollout_version_format(rollout_version) AS version, available_date > now() AS leased
  FROM rollout_claim('SCHEDULE.0001') ORDER BY data_key;
SELECT rollout_version_format(rollout_version) AS version, count(*) AS alerts,
       string_agg(document_type || ':' || order_no, ' ' ORDER BY document_type, order_no) AS orders
  FROM rollout_claim_rows('AGENT.ORDER_MONITOR', NULL::yfs_order_header)
 GROUP BY rollout_version;
SET rollout.version = '10.1';
SELECT data_key, rollout_version_format(rollout_version) AS version, available_date > now() AS leased
  FROM rollout_claim('SCHEDULE.0001') ORDER BY data_key;
SELECT count(*) AS nothing_left FROM rollout_claim('SCHEDULE.0001');
SELECT rollout_version_format(rollout_version) AS version, count(*) AS alerts,
       string_agg(document_type || ':' || order_no, ' ' ORDER BY document_type, order_no) AS orders
  FROM rollout_claim_rows('AGENT.ORDER_MONITOR', NULL::yfs_order_header)
 GROUP BY rollout_version;
RESET rollout.version;
SELECT release_claims();

-- ---------------------------------------------------------------------------
-- Phase-out of V1: base version
-- ---------------------------------------------------------------------------

-- V1's agents are stopped; the V2 Async Request Processor becomes the base
-- version and takes V1's leftovers and the untagged legacy requests along
-- with its own, never the canary's (11.0), a request out of retries or one
-- not yet due.
SELECT rollout_define_criteria('AGENT.ASYNC_REQUEST_PROCESSOR', transaction_id => 'ASYNC_REQUEST',
	queue_table => 'yfs_async_request', key_column => 'async_request_key',
	due_column => 'available_date', hold_column => 'max_errors_reached', base_version => true);
SET rollout.version = '10.1';
SELECT coalesce(rollout_version_format(rollout_version), 'untagged') AS version,
       count(*) AS claimed, string_agg(async_request_key, ' ' ORDER BY async_request_key) AS requests
  FROM rollout_claim_rows('AGENT.ASYNC_REQUEST_PROCESSOR', NULL::yfs_async_request)
 GROUP BY rollout_version ORDER BY rollout_version NULLS FIRST;
SELECT async_request_key, rollout_version_format(rollout_version) AS version,
       max_errors_reached, available_date > now() AS not_due
  FROM yfs_async_request WHERE rollout_claim_token IS NULL ORDER BY async_request_key;
RESET rollout.version;

-- Clean up, so later tests in this database start from the extension alone.
DROP VIEW claim_report;
DROP TABLE due_rows, claimed_rows;
DROP FUNCTION create_orders(text[], int, int), create_async_requests(int, int),
	create_order_documents(text[]), record_due_rows(rollout_criteria),
	claim_as(rollout_criteria, rollout_version), release_claims();
SELECT rollout_enable_tagging('rollout_task_q');
TRUNCATE rollout_task_q;
DELETE FROM rollout_criteria;
DROP TABLE yfs_async_request, yfs_charge_transaction, yfs_order_invoice, yfs_order_line,
	yfs_order_header;
