-- A schema shaped like the reference order-management system (IBM Sterling
-- Order Management), with every table tagged by rollout version and one agent
-- criteria per multi-version transaction and per agent.
--
-- Run with psql in a database where the extension already exists:
--
--   CREATE EXTENSION rollout_ext;
--   \i test/demo/reference_schema.sql
--
-- Tables (the reference system's YFS_ tables, cut down to what the agents use):
--
--   yfs_order_header        orders of every document type; tagged from the session
--   yfs_order_line          order lines with their numeric status; inherit the order's version
--   yfs_order_invoice       invoices, "00" = created; inherit the order's version
--   yfs_charge_transaction  authorization and charge requests; inherit the order's version
--   yfs_async_request       API and service calls queued for offline execution; tagged from the session
--   rollout_task_q          the extension's task queue; tasks inherit the version of the
--                           order named in data_key
--
-- Criteria ids:
--
--   'NAME.DOCTYPE' / 'NAME'  one criteria per multi-version transaction of the reference system
--                            (the 19 of staged-rollout.md), with the transaction's own id
--   'AGENT.<AGENT_NAME>'     one criteria per multi-version agent, over the table that drives it
--
-- Every criteria is multi-version and not base version: an agent takes only the rows of its own
-- version. Phasing a version out means redefining the next version's criteria with
-- base_version => true (see the end of this file).

-- ---------------------------------------------------------------------------
-- Order header
-- ---------------------------------------------------------------------------

CREATE TABLE yfs_order_header (
	order_header_key   text PRIMARY KEY,
	enterprise_code    text NOT NULL,
	document_type      text NOT NULL,   -- 0001 sales, 0002 planned, 0003 return, 0005 purchase,
	                                    -- 0006 transfer, 0007 master, 0015 quote
	order_no           text NOT NULL,
	order_date         timestamptz NOT NULL DEFAULT now(),
	buyer_organization_code text,
	seller_organization_code text,
	total_amount       numeric(19, 2) NOT NULL DEFAULT 0,
	payment_status     text,            -- AWAITING_AUTH, AUTHORIZED, INVOICED, PAID, ... (NULL: no payment)
	draft_order_flag   boolean NOT NULL DEFAULT false,
	hold_flag          boolean NOT NULL DEFAULT false,   -- order on hold: no payment processing
	order_closed       boolean NOT NULL DEFAULT false,   -- set by the Close Order agent

	-- Order Monitor: when the next alert condition must be evaluated (NULL: nothing to monitor).
	next_alert_ts      timestamptz,
	monitor_claim_token uuid,

	-- Request Collection: when the order's payment must next be looked at (NULL: nothing to
	-- collect). The transaction is derived from the document type: returns are collected by
	-- PAYMENT_COLLECTION.0003, every other order by the enterprise-level PAYMENT_COLLECTION.
	collection_due_ts  timestamptz,
	collection_transaction_id text GENERATED ALWAYS AS (
		CASE document_type WHEN '0003' THEN 'PAYMENT_COLLECTION.0003' ELSE 'PAYMENT_COLLECTION' END
	) STORED,
	collection_claim_token uuid,

	rollout_version    rollout_version, -- the version of the server that created the order

	UNIQUE (enterprise_code, document_type, order_no)
);
COMMENT ON TABLE yfs_order_header IS
	'orders; driver table of Request Collection (collection_due_ts) and Order Monitor (next_alert_ts)';

-- ---------------------------------------------------------------------------
-- Order lines
-- ---------------------------------------------------------------------------

CREATE TABLE yfs_order_line (
	order_line_key     text PRIMARY KEY,
	order_header_key   text NOT NULL REFERENCES yfs_order_header ON DELETE CASCADE,
	prime_line_no      integer NOT NULL,
	item_id            text NOT NULL,
	uom                text NOT NULL DEFAULT 'EACH',
	ordered_qty        numeric(14, 4) NOT NULL,
	unit_price         numeric(19, 2) NOT NULL DEFAULT 0,
	ship_node          text,
	-- 1100 Created, 1300 Backordered, 1500 Scheduled, 1600 Awaiting Chained Order Creation,
	-- 3200 Released, 3350 Included In Shipment, 3700 Shipped, 9000 Cancelled
	status             numeric(10, 2) NOT NULL DEFAULT 1100,
	rollout_version    rollout_version,
	UNIQUE (order_header_key, prime_line_no)
);
COMMENT ON TABLE yfs_order_line IS 'order lines; each line belongs to its order''s version';

-- ---------------------------------------------------------------------------
-- Order invoices
-- ---------------------------------------------------------------------------

CREATE TABLE yfs_order_invoice (
	order_invoice_key  text PRIMARY KEY,
	order_header_key   text NOT NULL REFERENCES yfs_order_header ON DELETE CASCADE,
	invoice_no         text NOT NULL UNIQUE,
	invoice_type       text NOT NULL,   -- SHIPMENT, RETURN, CREDIT_MEMO, ...
	status             text NOT NULL DEFAULT '00',   -- 00 created, 01 published
	total_amount       numeric(19, 2) NOT NULL DEFAULT 0,
	date_invoiced      timestamptz NOT NULL DEFAULT now(),
	-- Send Invoice: when the created invoice is due to be published (NULL once published).
	send_due_ts        timestamptz DEFAULT now(),
	rollout_claim_token uuid,
	rollout_version    rollout_version
);
COMMENT ON TABLE yfs_order_invoice IS
	'invoices; driver table of Send Invoice, which publishes those in status 00 (created)';

-- ---------------------------------------------------------------------------
-- Charge transactions
-- ---------------------------------------------------------------------------

CREATE TABLE yfs_charge_transaction (
	charge_transaction_key text PRIMARY KEY,
	order_header_key   text NOT NULL REFERENCES yfs_order_header ON DELETE CASCADE,
	charge_type        text NOT NULL CHECK (charge_type IN ('AUTHORIZATION', 'CHARGE')),
	status             text NOT NULL DEFAULT 'OPEN',   -- OPEN, CHECKED, CLOSED, ERROR
	payment_type       text NOT NULL DEFAULT 'CREDIT_CARD',
	request_amount     numeric(19, 2) NOT NULL,
	-- Set by Request Collection from the order's document type: the transaction that executes
	-- this request through the payment user exits.
	execution_transaction_id text NOT NULL DEFAULT 'PAYMENT_EXECUTION'
		CHECK (execution_transaction_id IN ('PAYMENT_EXECUTION', 'PAYMENT_EXECUTION.0003')),
	-- Execute Collection: when the request is due (NULL once closed); a failed user exit pushes
	-- it into the future.
	execution_due_ts   timestamptz DEFAULT now(),
	rollout_claim_token uuid,
	rollout_version    rollout_version
);
COMMENT ON TABLE yfs_charge_transaction IS
	'authorization and charge requests; driver table of Execute Collection';

-- ---------------------------------------------------------------------------
-- Async requests
-- ---------------------------------------------------------------------------

CREATE TABLE yfs_async_request (
	async_request_key  text PRIMARY KEY,
	enterprise_code    text,
	api_name           text NOT NULL,   -- API or service (flow) to invoke
	is_service         boolean NOT NULL DEFAULT false,
	message            text,            -- the input document
	error_count        integer NOT NULL DEFAULT 0,
	last_error         text,
	-- Async Request Processor: when the request may run (pushed forward by the reprocess
	-- interval after a failure).
	available_date     timestamptz NOT NULL DEFAULT now(),
	-- A request that failed the maximum number of times (5 here) is no longer retried.
	max_errors_reached boolean GENERATED ALWAYS AS (error_count >= 5) STORED,
	rollout_claim_token uuid,
	rollout_version    rollout_version
);
COMMENT ON TABLE yfs_async_request IS
	'API and service requests queued for offline execution; driver table of the Async Request Processor';

-- ---------------------------------------------------------------------------
-- Indexes for the claim paths: (transaction, version, due, key), partial on
-- what can ever be due. The task queue has its own in the extension.
-- ---------------------------------------------------------------------------

CREATE INDEX yfs_order_header_monitor ON yfs_order_header
	(rollout_version, next_alert_ts, order_header_key) WHERE next_alert_ts IS NOT NULL;
CREATE INDEX yfs_order_header_collection ON yfs_order_header
	(collection_transaction_id, rollout_version, collection_due_ts, order_header_key)
	WHERE collection_due_ts IS NOT NULL AND NOT hold_flag;
CREATE INDEX yfs_order_line_header ON yfs_order_line (order_header_key);
CREATE INDEX yfs_order_invoice_header ON yfs_order_invoice (order_header_key);
CREATE INDEX yfs_order_invoice_send ON yfs_order_invoice
	(rollout_version, send_due_ts, order_invoice_key) WHERE send_due_ts IS NOT NULL;
CREATE INDEX yfs_charge_transaction_header ON yfs_charge_transaction (order_header_key);
CREATE INDEX yfs_charge_transaction_execution ON yfs_charge_transaction
	(execution_transaction_id, rollout_version, execution_due_ts, charge_transaction_key)
	WHERE execution_due_ts IS NOT NULL;
CREATE INDEX yfs_async_request_available ON yfs_async_request
	(rollout_version, available_date, async_request_key) WHERE NOT max_errors_reached;

-- ---------------------------------------------------------------------------
-- Tagging
-- ---------------------------------------------------------------------------

-- Orders and async requests take the version of the server (session) that creates them; a
-- session without rollout.version cannot create them.
SELECT rollout_enable_tagging('yfs_order_header');
SELECT rollout_enable_tagging('yfs_async_request');

-- Lines, invoices and charge requests belong to their order's version, whichever server or
-- agent creates them.
SELECT rollout_enable_tagging('yfs_order_line', inherit_from => 'yfs_order_header',
                              inherit_on => '{order_header_key}');
SELECT rollout_enable_tagging('yfs_order_invoice', inherit_from => 'yfs_order_header',
                              inherit_on => '{order_header_key}');
SELECT rollout_enable_tagging('yfs_charge_transaction', inherit_from => 'yfs_order_header',
                              inherit_on => '{order_header_key}');

-- Tasks belong to the order in data_key. A task whose data_key names no known order, or an
-- untagged (pre-rollout) order, takes the session's version.
SELECT rollout_enable_tagging('rollout_task_q', inherit_from => 'yfs_order_header',
                              inherit_on => '{data_key}', parent_columns => '{order_header_key}');

-- ---------------------------------------------------------------------------
-- Criteria of the multi-version transactions (task queue)
--
-- The task-queue agents (Schedule Order, Release Order, Close Order, Create
-- Chained Order) run one transaction per document type. Each criteria claims
-- the due, not held tasks whose transaction_id is the criteria id.
-- ---------------------------------------------------------------------------

-- Schedule Order: schedules created orders against inventory.
SELECT rollout_define_criteria('SCHEDULE.0001');   -- sales orders
SELECT rollout_define_criteria('SCHEDULE.0003');   -- return orders
SELECT rollout_define_criteria('SCHEDULE.0005');   -- purchase orders
SELECT rollout_define_criteria('SCHEDULE.0006');   -- transfer orders

-- Release Order: releases scheduled orders to ship nodes.
SELECT rollout_define_criteria('RELEASE.0001');    -- sales orders
SELECT rollout_define_criteria('RELEASE.0005');    -- purchase orders
SELECT rollout_define_criteria('RELEASE.0006');    -- transfer orders

-- Close Order: closes orders whose every line reached the final status.
SELECT rollout_define_criteria('CLOSE_ORDER.0001');   -- sales orders
SELECT rollout_define_criteria('CLOSE_ORDER.0002');   -- planned orders
SELECT rollout_define_criteria('CLOSE_ORDER.0003');   -- return orders
SELECT rollout_define_criteria('CLOSE_ORDER.0005');   -- purchase orders
SELECT rollout_define_criteria('CLOSE_ORDER.0015');   -- quotes

-- Create Chained Order: creates the purchase or transfer orders that fulfil an order. The
-- transaction without a suffix is the enterprise-level variant (sales orders).
SELECT rollout_define_criteria('CHAINED_ORDER_CREATE');        -- sales orders
SELECT rollout_define_criteria('CHAINED_ORDER_CREATE.0005');   -- purchase orders
SELECT rollout_define_criteria('CHAINED_ORDER_CREATE.0006');   -- transfer orders

-- ---------------------------------------------------------------------------
-- Criteria of the multi-version transactions (driver tables)
-- ---------------------------------------------------------------------------

-- Request Collection computes amounts and creates authorization and charge requests for orders
-- whose collection is due and that are not on hold. The transaction column tells returns
-- (PAYMENT_COLLECTION.0003) from every other order (enterprise-level PAYMENT_COLLECTION).
SELECT rollout_define_criteria('PAYMENT_COLLECTION',
	queue_table => 'yfs_order_header', key_column => 'order_header_key',
	due_column => 'collection_due_ts', transaction_column => 'collection_transaction_id',
	hold_column => 'hold_flag', token_column => 'collection_claim_token');
SELECT rollout_define_criteria('PAYMENT_COLLECTION.0003',
	queue_table => 'yfs_order_header', key_column => 'order_header_key',
	due_column => 'collection_due_ts', transaction_column => 'collection_transaction_id',
	hold_column => 'hold_flag', token_column => 'collection_claim_token');

-- Execute Collection executes the pending authorization and charge requests; each request names
-- the transaction that executes it (refunds of returns: PAYMENT_EXECUTION.0003).
SELECT rollout_define_criteria('PAYMENT_EXECUTION',
	queue_table => 'yfs_charge_transaction', key_column => 'charge_transaction_key',
	due_column => 'execution_due_ts', transaction_column => 'execution_transaction_id');
SELECT rollout_define_criteria('PAYMENT_EXECUTION.0003',
	queue_table => 'yfs_charge_transaction', key_column => 'charge_transaction_key',
	due_column => 'execution_due_ts', transaction_column => 'execution_transaction_id');

-- ---------------------------------------------------------------------------
-- Criteria of the multi-version agents, over the table that drives each one
-- ---------------------------------------------------------------------------

-- Async Request Processor: due requests that have not failed too often, whatever their API.
SELECT rollout_define_criteria('AGENT.ASYNC_REQUEST_PROCESSOR', transaction_id => 'ASYNC_REQUEST',
	queue_table => 'yfs_async_request', key_column => 'async_request_key',
	due_column => 'available_date', hold_column => 'max_errors_reached', batch_size => 1000);

-- Send Invoice: created invoices (status 00) due to be published to accounts receivable.
SELECT rollout_define_criteria('AGENT.SEND_INVOICE', transaction_id => 'SEND_INVOICE',
	queue_table => 'yfs_order_invoice', key_column => 'order_invoice_key',
	due_column => 'send_due_ts');

-- Request Collection: every order whose collection is due, of any document type (the
-- PAYMENT_COLLECTION criteria above split the same rows by transaction).
SELECT rollout_define_criteria('AGENT.REQUEST_COLLECTION', transaction_id => 'PAYMENT_COLLECTION',
	queue_table => 'yfs_order_header', key_column => 'order_header_key',
	due_column => 'collection_due_ts', hold_column => 'hold_flag',
	token_column => 'collection_claim_token');

-- Execute Collection: every due authorization or charge request (the PAYMENT_EXECUTION criteria
-- above split the same rows by transaction).
SELECT rollout_define_criteria('AGENT.EXECUTE_COLLECTION', transaction_id => 'PAYMENT_EXECUTION',
	queue_table => 'yfs_charge_transaction', key_column => 'charge_transaction_key',
	due_column => 'execution_due_ts');

-- Order Monitor: orders whose next alert time is due, held or not (holds raise alerts too). It
-- has its own due and token columns on the order header, so it never disturbs Request
-- Collection's claims on the same rows.
SELECT rollout_define_criteria('AGENT.ORDER_MONITOR', transaction_id => 'ORDER_MONITOR',
	queue_table => 'yfs_order_header', key_column => 'order_header_key',
	due_column => 'next_alert_ts', token_column => 'monitor_claim_token',
	batch_size => 500, lease => '15 minutes');

-- The task-queue agents: each agent's default criteria runs the transaction of its default
-- document type (the enterprise-level one for Create Chained Order); the per-document-type
-- criteria above run the others.
SELECT rollout_define_criteria('AGENT.SCHEDULE_ORDER', transaction_id => 'SCHEDULE.0001');
SELECT rollout_define_criteria('AGENT.RELEASE_ORDER', transaction_id => 'RELEASE.0001');
SELECT rollout_define_criteria('AGENT.CLOSE_ORDER', transaction_id => 'CLOSE_ORDER.0001');
SELECT rollout_define_criteria('AGENT.CREATE_CHAINED_ORDER', transaction_id => 'CHAINED_ORDER_CREATE');

-- Phase-out of a version (not run here): once the V1 agents are stopped and V2 is confirmed
-- able to process V1's rows, the V2 agents' criteria take every row up to their version and
-- untagged rows, e.g.
--
--   SELECT rollout_define_criteria('SCHEDULE.0001', base_version => true);
