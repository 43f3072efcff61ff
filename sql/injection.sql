-- SQL injection and odd identifiers through every text, name and regclass
-- argument. Legitimate odd names (quotes, spaces, mixed case, semicolons,
-- comment markers, schema-qualified) work everywhere: tagging with
-- inheritance and routing, criteria on a driver table, the row claim,
-- completion and retry, retag, phase-out, guards, the backlog view. Strings
-- crafted as SQL are data: a canary table keeps its rows, and event triggers
-- log every DDL command and dropped object (only the extension's own
-- ALTER TABLE and CREATE/DROP TRIGGER may appear). Names that do not exist
-- get their documented SQLSTATEs.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS rollout_ext CASCADE;
RESET client_min_messages;
CREATE EXTENSION rollout_ext;
\set SHOW_CONTEXT never

-- The odd names and malicious strings, as psql variables: identifiers are
-- interpolated as :"name" (quoted by psql), strings as :'name'.
\set sch 'My Schema'
\set tbl 'Odd "Table" ; DROP'
\set vw 'Odd "View" ; DROP'
\set psch 'Other "Schema"; DROP TABLE public.canary; --'
\set ptbl 'Parent ''Orders'' ); DROP TABLE public.canary; --'
\set pkey 'Order Key''s'
\set key 'Key "Col"; DROP TABLE public.canary; --'
\set due 'Due Date'
\set txn 'Txn ID'
\set hold 'Hold?'
\set pref 'Parent Ref "x"'
\set route 'Route "Key"'
\set ver 'Ver''sion "V"'
\set tok 'Tok"en; DELETE FROM public.canary'
\set crit 'CRIT''; DROP TABLE public.canary; --'
\set txnid 'TXN "x"); DELETE FROM public.canary; --'
\set okey 'O''Brien"; DROP TABLE public.canary; --'
\set rkey 'R''"; DELETE FROM public.canary; --'
\set uni 'Критерий ✓ 日本 🚀 "'''
\set evil_label 'V1''); DROP TABLE public.canary; --'
-- 200 characters is the longest criteria id; 150 and 100 characters of
-- 300 bytes each.
SELECT repeat('C', 200) AS long, repeat('C', 201) AS toolong,
       repeat('é', 150) AS mbid, repeat('日', 100) AS mbtxn \gset

CREATE TABLE public.canary (id int PRIMARY KEY);
INSERT INTO public.canary VALUES (1), (2), (3);
CREATE SCHEMA :"sch";
CREATE SCHEMA :"psch";
CREATE TABLE :"psch".:"ptbl" (:"pkey" text PRIMARY KEY, note text);
CREATE TABLE :"sch".:"tbl" (
	:"key" text PRIMARY KEY,
	:"due" timestamptz DEFAULT now(),  -- NULL: no further work (rollout_complete_rows)
	:"txn" text NOT NULL DEFAULT :'txnid',
	:"hold" boolean NOT NULL DEFAULT false,
	:"pref" text,
	:"route" text,
	payload text);
CREATE VIEW :"sch".:"vw" AS SELECT 1 AS x;
SELECT format('%I.%I', :'sch', :'tbl') AS qtbl, format('%I.%I', :'psch', :'ptbl') AS qptbl \gset
SELECT rollout_register_version('10.1');
SELECT rollout_register_version('10.2');
SELECT rollout_register_version('10.3');
-- 0 %: every routed key goes to the base 10.1 (the rows' versions stay predictable).
SELECT rollout_set_ramp('10.1', '10.2', 0);
-- Every DDL command and every dropped object from here on is logged.
CREATE TABLE public.ddl_log (tag text, obj text);
CREATE TABLE public.drop_log (type text, obj text);
CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.ddl_log SELECT command_tag, object_identity FROM pg_event_trigger_ddl_commands();
END $$;
CREATE FUNCTION public.log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.drop_log SELECT object_type, object_identity FROM pg_event_trigger_dropped_objects();
END $$;
CREATE EVENT TRIGGER inj_ddl ON ddl_command_end EXECUTE FUNCTION public.log_ddl();
CREATE EVENT TRIGGER inj_drop ON sql_drop EXECUTE FUNCTION public.log_drop();

--
-- Tagging with odd names: a parent, and a child with inheritance and routing
--
SELECT rollout_enable_tagging(:'qptbl', column_name => :'ver');
SELECT atttypid::regtype AS version_column_type
  FROM pg_attribute WHERE attrelid = :'qptbl'::regclass AND attname = :'ver';
SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', inherit_from => :'qptbl',
       inherit_on => ARRAY[:'pref']::name[], parent_columns => ARRAY[:'pkey']::name[],
       route_by => :'route');
SELECT rollout_version_column(:'qtbl') = :'ver' AS odd_column_name_given_back;
SELECT count(*) AS both_tables_listed FROM rollout_tagged_tables
 WHERE tbl IN (:'qtbl'::regclass, :'qptbl'::regclass) AND column_name = :'ver';

-- A parent row whose key is an injection string is stored verbatim and tagged.
SET rollout.version = '10.1';
INSERT INTO :"psch".:"ptbl" (:"pkey", note) VALUES (:'okey', 'parent');
SELECT rollout_version_format(:"ver") FROM :"psch".:"ptbl" WHERE :"pkey" = :'okey';
-- Children: inherited from the odd parent key, routed by a quoted key, or the session's.
SET rollout.version = '10.2';
INSERT INTO :"sch".:"tbl" (:"key", :"pref", payload) VALUES
	('inherit ''1''', :'okey', 'inherits 10.1 from the odd parent key');
INSERT INTO :"sch".:"tbl" (:"key", :"route", payload) VALUES
	('route 1', :'rkey', 'routed by a quoted key');
INSERT INTO :"sch".:"tbl" (:"key", payload)
	SELECT 'session ' || g, 'session version' FROM generate_series(1, 4) g;
SELECT :"key" AS key, rollout_version_format(:"ver") AS version,
       :"ver" = rollout_route(:'rkey') AS routed_as_rollout_route
  FROM :"sch".:"tbl" ORDER BY 1;
-- COPY into the odd table is tagged too.
SET rollout.version = '10.1';
COPY :"sch".:"tbl" (:"key", payload) FROM STDIN;
copied	via COPY
\.
SELECT rollout_version_format(:"ver") FROM :"sch".:"tbl" WHERE :"key" = 'copied';

-- Routing of keys with quotes, semicolons and unicode agrees with the buckets
-- (50 %), and a bucket is stable.
SELECT rollout_set_ramp('10.1', '10.2', 50);
SELECT bool_and(rollout_route(k) = CASE WHEN rollout_route_bucket(k) < 5000
                                        THEN '10.2'::rollout_version ELSE '10.1' END) AS route_agrees
  FROM unnest(ARRAY[:'rkey', :'okey', :'uni', '''', '"', ';', '--', E'\\', '']) k;
SELECT rollout_route_bucket(:'rkey') = rollout_route_bucket(:'rkey') AS bucket_stable;

--
-- Criteria on the odd driver table: every name odd
--
SELECT rollout_define_criteria(:'crit', transaction_id => :'txnid', queue_table => :'qtbl',
       key_column => :'key', due_column => :'due', version_column => :'ver',
       transaction_column => :'txn', hold_column => :'hold', token_column => :'tok');
SELECT transaction_id = :'txnid' AND queue_table = :'qtbl'::regclass AND key_column = :'key'
       AND due_column = :'due' AND version_column = :'ver' AND transaction_column = :'txn'
       AND hold_column = :'hold' AND token_column = :'tok' AS stored_verbatim
  FROM rollout_criteria WHERE criteria_id = :'crit';
SELECT atttypid::regtype AS token_column_type
  FROM pg_attribute WHERE attrelid = :'qtbl'::regclass AND attname = :'tok';
-- The claim with the odd row type takes the 4 rows of 10.2, each with a token.
SELECT count(*) AS claimed
  FROM rollout_claim_rows(:'crit', NULL::"My Schema"."Odd ""Table"" ; DROP", 10, as_version => '10.2');
SELECT count(*) AS with_token FROM :"sch".:"tbl" WHERE :"tok" IS NOT NULL;
SELECT rollout_version_format(version), ready, claimed FROM rollout_backlog
 WHERE criteria_id = :'crit' AND queue_table = :'qtbl'::regclass ORDER BY version DESC;
-- Completion and retry with a key that has quotes.
SELECT :"key" AS k, :"tok" AS t FROM :"sch".:"tbl" WHERE :"key" = 'session 1' \gset
SELECT rollout_complete_rows(:'crit', :'k', :'t') AS completed;
SELECT :"tok" IS NULL AND :"due" IS NULL AS no_token_no_due FROM :"sch".:"tbl" WHERE :"key" = 'session 1';
SELECT :"key" AS k, :"tok" AS t FROM :"sch".:"tbl" WHERE :"key" = 'session 2' \gset
SELECT rollout_retry_rows(:'crit', :'k', :'t', '1 hour') AS retried;
SELECT :"tok" IS NULL AND :"due" > now() + interval '59 minutes' AS due_in_an_hour
  FROM :"sch".:"tbl" WHERE :"key" = 'session 2';
-- Injection strings as keys change nothing.
SELECT rollout_complete_rows(:'crit', :'okey', gen_random_uuid()) AS injected_key;
SELECT rollout_complete_rows(:'crit', $$x' OR '1'='1$$, gen_random_uuid()) AS or_1_eq_1;
SELECT rollout_drained('10.2') AS drained_with_odd_queue_rows;

-- Guards on the odd table (the version column comes from the tagging).
SELECT rollout_enable_guard(:'qtbl');
SET rollout.version = '10.1';
UPDATE :"sch".:"tbl" SET payload = 'x' WHERE :"key" = 'session 3';
\echo :LAST_ERROR_SQLSTATE
SET rollout.version = '10.2';
UPDATE :"sch".:"tbl" SET :"ver" = '10.1' WHERE :"key" = 'session 3';
\echo :LAST_ERROR_SQLSTATE
UPDATE :"sch".:"tbl" SET payload = 'ok' WHERE :"key" = 'session 3';

-- Retag and phase-out through the odd names: session 3's lease ends,
-- session 4 stays leased.
UPDATE :"sch".:"tbl" SET :"tok" = NULL, :"due" = now() WHERE :"key" = 'session 3';
CALL rollout_retag(:'qtbl', '10.2', '10.3');
SELECT count(*) AS moved_to_10_3 FROM :"sch".:"tbl" WHERE :"ver" = '10.3';
SELECT bool_or(detail->>'table' = :'qtbl') AS audit_names_table FROM rollout_audit WHERE action = 'retag';
CALL rollout_phase_out('10.3', '10.2');

--
-- Criteria ids and other strings
--
SELECT rollout_define_criteria(:'uni', transaction_id => :'uni');
SET rollout.version = '10.1';
INSERT INTO rollout_task_q (transaction_id) VALUES (:'uni');
SELECT count(*) AS claimed FROM rollout_claim(:'uni');
SELECT rollout_drop_criteria(:'uni');
SELECT rollout_define_criteria(:'long', transaction_id => :'long');
INSERT INTO rollout_task_q (transaction_id) VALUES (:'long');
SELECT count(*) AS claimed FROM rollout_claim(:'long');
SELECT rollout_drop_criteria(:'long');
-- 201 characters are refused.
SELECT rollout_define_criteria(:'toolong');
\echo :LAST_ERROR_SQLSTATE
-- An id no criteria has, however long or crafted: undefined_object.
DO $$
BEGIN
	PERFORM rollout_claim(repeat('X', 10000), as_version => '10.1');
EXCEPTION WHEN undefined_object THEN
	RAISE NOTICE 'a 10000-character id: undefined_object';
END $$;
SELECT * FROM rollout_claim('x''); DROP TABLE public.canary; --', as_version => '10.1');
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_complete_rows('nope"; DROP TABLE public.canary', 'k', gen_random_uuid());
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_drop_criteria(:'okey');
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_drop_criteria(:'okey', if_exists => true);
-- Multi-byte ids: the length limit counts characters.
SELECT rollout_define_criteria(:'mbid');
INSERT INTO rollout_task_q (transaction_id) VALUES (:'mbid');
SELECT count(*) AS claimed FROM rollout_claim(:'mbid');
SELECT rollout_define_criteria('MB.TXN', transaction_id => :'mbtxn');
INSERT INTO rollout_task_q (transaction_id) VALUES (:'mbtxn');
SELECT count(*) AS claimed FROM rollout_claim('MB.TXN');
-- An injection string as a label is stored verbatim, in the audit's JSON too.
SELECT rollout_register_version('10.4', :'evil_label');
SELECT (SELECT label FROM rollout_versions WHERE version = '10.4') = :'evil_label'
       AND (SELECT bool_or(detail->>'label' = :'evil_label') FROM rollout_audit WHERE action = 'register')
       AS label_verbatim;
SELECT rollout_set_version_state('10.4', 'active''); DROP TABLE public.canary; --');
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver',
       if_unset => 'error''); DROP TABLE public.canary; --');
\echo :LAST_ERROR_SQLSTATE
SET rollout.version = '10.1''; DROP TABLE public.canary; --';
\echo :LAST_ERROR_SQLSTATE

--
-- Names that do not exist, and strings that are not names
--
SELECT rollout_enable_tagging(format('%I.%I', :'sch', 'No Such "Table"'));
\echo :LAST_ERROR_SQLSTATE
-- A missing schema: invalid_schema_name up to 15; 16 and later report the
-- relation (undefined_table) when the text is cast to regclass.
DO $$
BEGIN
	PERFORM rollout_enable_tagging('"No Such Schema".t');
EXCEPTION WHEN invalid_schema_name OR undefined_table THEN
	RAISE NOTICE 'a missing schema: refused';
END $$;
SELECT rollout_enable_tagging('public.canary; DROP TABLE public.canary');
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_enable_tagging(format('%I.%I', :'sch', :'vw'));
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', inherit_from => :'qptbl',
       inherit_on => ARRAY['no such "col"; DROP TABLE public.canary']::name[],
       parent_columns => ARRAY[:'pkey']::name[]);
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', inherit_from => :'qptbl',
       inherit_on => ARRAY[:'pref']::name[], parent_columns => ARRAY['nope'';--']::name[]);
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_enable_tagging(:'qtbl', column_name => :'ver', route_by => 'no such "route"');
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_define_criteria('X.1', queue_table => :'qtbl', key_column => 'nope"; --', due_column => :'due');
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_define_criteria('X.2', queue_table => :'qtbl', key_column => :'key', due_column => :'key');
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_define_criteria('X.3', queue_table => format('%I.%I', :'sch', 'gone'';--'),
       key_column => 'k', due_column => 'd');
\echo :LAST_ERROR_SQLSTATE
SELECT rollout_enable_guard(:'qtbl', column_name => 'nope"; DROP TABLE public.canary');
\echo :LAST_ERROR_SQLSTATE
CALL rollout_retag(format('%I.%I', :'sch', 'gone'), '10.1', '10.2');
\echo :LAST_ERROR_SQLSTATE
-- Another table's row type: the hint quotes the odd name, ready to paste.
SELECT * FROM rollout_claim_rows(:'crit', NULL::public.canary, 1, as_version => '10.1');
\echo :LAST_ERROR_SQLSTATE

--
-- Switching things off, and the verdict on injection
--
SELECT rollout_disable_guard(:'qtbl');
SELECT rollout_disable_tagging(:'qtbl');
SELECT rollout_disable_tagging(:'qptbl');
SELECT count(*) AS rollout_triggers_left FROM pg_trigger
 WHERE tgrelid IN (:'qtbl'::regclass, :'qptbl'::regclass) AND tgname LIKE 'rollout%';
DROP EVENT TRIGGER inj_ddl;
DROP EVENT TRIGGER inj_drop;
SELECT count(*) AS canary_rows FROM public.canary;
SELECT (SELECT count(*) FROM :"sch".:"tbl") AS driver_rows, (SELECT count(*) FROM :"psch".:"ptbl") AS parent_rows;
-- Dropped: only the extension's triggers and the odd version column's defaults.
SELECT type, count(*) FROM public.drop_log GROUP BY 1 ORDER BY 1;
SELECT obj FROM public.drop_log
 WHERE (type = 'default value' AND right(obj, length(quote_ident(:'ver')) + 1) <> '.' || quote_ident(:'ver'))
    OR (type = 'trigger' AND obj !~ '^rollout_(tag|guard) on ');
-- The only DDL run: ALTER TABLE (new columns, version-column defaults) and CREATE TRIGGER.
SELECT tag, count(*) FROM public.ddl_log GROUP BY 1 ORDER BY 1;

DROP SCHEMA :"sch", :"psch" CASCADE;
DROP TABLE public.canary, public.ddl_log, public.drop_log;
DROP FUNCTION public.log_ddl(), public.log_drop();
DROP EXTENSION rollout_ext CASCADE;
