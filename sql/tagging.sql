-- Tagging triggers: precedence, statement kinds, inheritance, partitions,
-- cache invalidation and misuse.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never

CREATE TABLE order_header (
	order_header_key text PRIMARY KEY,
	document_type text NOT NULL
);
SELECT rollout_enable_tagging('order_header');
SELECT rollout_enable_tagging('order_header');  -- idempotent
SELECT tgname, tgenabled, tgnargs FROM pg_trigger WHERE tgrelid = 'order_header'::regclass;
\d order_header

-- The session's version tags new rows.
SET rollout.version = '9.4';
INSERT INTO order_header VALUES ('O1', '0001');
SET rollout.version = '10.1';
INSERT INTO order_header VALUES ('O2', '0001'), ('O3', '0005');
-- An explicit version is kept.
INSERT INTO order_header VALUES ('O4', '0003', '11.0');
SELECT order_header_key, rollout_version_format(rollout_version) FROM order_header ORDER BY 1;

-- No version: fail closed, and the table is unchanged.
RESET rollout.version;
INSERT INTO order_header VALUES ('O5', '0001');
SELECT count(*) FROM order_header;
-- ... unless the row carries its own version.
INSERT INTO order_header VALUES ('O5', '0001', '10.1');

-- INSERT ... SELECT, ON CONFLICT and COPY.
SET rollout.version = '10.1';
INSERT INTO order_header SELECT 'S' || g, '0001' FROM generate_series(1, 3) g;
INSERT INTO order_header VALUES ('O1', '0001') ON CONFLICT DO NOTHING;
INSERT INTO order_header VALUES ('C1', '0006') ON CONFLICT (order_header_key) DO UPDATE SET document_type = excluded.document_type;
INSERT INTO order_header VALUES ('C1', '0007') ON CONFLICT (order_header_key) DO UPDATE SET document_type = excluded.document_type;
COPY order_header (order_header_key, document_type) FROM stdin;
P1	0005
P2	0006
\.
COPY order_header FROM stdin;
P3	0005	940010203
\.
SELECT order_header_key, document_type, rollout_version FROM order_header ORDER BY 1;

-- if_unset => 'null' leaves rows untagged when no version is known.
CREATE TABLE audit_note (note text);
SELECT rollout_enable_tagging('audit_note', if_unset => 'null');
RESET rollout.version;
INSERT INTO audit_note VALUES ('untagged');
SET rollout.version = '10.1';
INSERT INTO audit_note VALUES ('tagged');
SELECT note, rollout_version FROM audit_note ORDER BY note;

-- Inheritance: a task row takes its order's version, whatever the session's.
CREATE TABLE task_q (
	task_q_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	transaction_id text NOT NULL,
	data_key text
);
SELECT rollout_enable_tagging('task_q', inherit_from => 'order_header',
                              inherit_on => '{data_key}', parent_columns => '{order_header_key}');
SET rollout.version = '9.4';
INSERT INTO task_q (transaction_id, data_key) VALUES
	('SCHEDULE.0001', 'O2'),   -- a 10.1 order: inherits 10.1
	('SCHEDULE.0001', 'O1'),   -- a 9.4 order: inherits 9.4
	('SCHEDULE.0003', 'O4'),   -- an 11.0 order
	('SCHEDULE.0001', 'NONE'), -- no parent: the session's version
	('SCHEDULE.0001', NULL);   -- no key: the session's version
INSERT INTO task_q (transaction_id, data_key, rollout_version) VALUES ('RELEASE.0001', 'O2', '12.0');
SELECT transaction_id, data_key, rollout_version_format(rollout_version) FROM task_q ORDER BY task_q_key;
-- A missing parent with no session version still fails closed.
RESET rollout.version;
INSERT INTO task_q (transaction_id, data_key) VALUES ('SCHEDULE.0001', 'O3');
INSERT INTO task_q (transaction_id, data_key) VALUES ('SCHEDULE.0001', 'NONE');

-- Changing the parent's version is seen by the next insert (cache invalidation).
UPDATE order_header SET rollout_version = '10.2' WHERE order_header_key = 'O3';
INSERT INTO task_q (transaction_id, data_key) VALUES ('CLOSE_ORDER.0005', 'O3');
SELECT rollout_version_format(rollout_version) FROM task_q WHERE transaction_id = 'CLOSE_ORDER.0005';

-- The parent is read through an index whose leading columns are its key
-- columns (here: primary keys, one composite with the keys in another
-- order). Without such an index, from a partitioned parent, under row-level
-- security, or with a child key of another type, a query reads it instead.
-- Every way gives the same answers: the parent's version, nothing for an
-- untagged parent, the session's version without a parent.
CREATE TABLE parent_pk (k text PRIMARY KEY, rollout_version rollout_version);
CREATE TABLE parent_composite (k text, n int, rollout_version rollout_version, PRIMARY KEY (n, k));
CREATE TABLE parent_no_index (k text, rollout_version rollout_version);
CREATE TABLE parent_partitioned (k text, rollout_version rollout_version) PARTITION BY LIST (k);
CREATE TABLE parent_partitioned_a PARTITION OF parent_partitioned FOR VALUES IN ('A');
CREATE TABLE parent_partitioned_rest PARTITION OF parent_partitioned DEFAULT;
CREATE INDEX ON parent_partitioned (k);
CREATE TABLE parent_rls (k text PRIMARY KEY, rollout_version rollout_version);
ALTER TABLE parent_rls ENABLE ROW LEVEL SECURITY;
CREATE TABLE parent_bigint (k bigint PRIMARY KEY, rollout_version rollout_version);
INSERT INTO parent_pk VALUES ('A', '9.4'), ('U', NULL);
INSERT INTO parent_composite VALUES ('A', 1, '9.4'), ('U', 1, NULL);
INSERT INTO parent_no_index VALUES ('A', '9.4'), ('U', NULL);
INSERT INTO parent_partitioned VALUES ('A', '9.4'), ('U', NULL);
INSERT INTO parent_rls VALUES ('A', '9.4'), ('U', NULL);
INSERT INTO parent_bigint VALUES (1, '9.4'), (2, NULL);
CREATE TABLE child (parent_table text, k text, n int, rollout_version rollout_version);
CREATE TABLE child_pk (LIKE child);
CREATE TABLE child_composite (LIKE child);
CREATE TABLE child_no_index (LIKE child);
CREATE TABLE child_partitioned (LIKE child);
CREATE TABLE child_rls (LIKE child);
CREATE TABLE child_int (parent_table text, k int, rollout_version rollout_version);
SELECT rollout_enable_tagging('child_' || p, inherit_from => ('parent_' || p)::regclass,
                              inherit_on => '{k}', parent_columns => '{k}')
  FROM unnest('{pk, no_index, partitioned, rls}'::text[]) p;
SELECT rollout_enable_tagging('child_composite', inherit_from => 'parent_composite',
                              inherit_on => '{k, n}', parent_columns => '{k, n}');
SELECT rollout_enable_tagging('child_int', inherit_from => 'parent_bigint',
                              inherit_on => '{k}', parent_columns => '{k}');
SET rollout.version = '10.1';
INSERT INTO child_pk (k) VALUES ('A'), ('U'), ('none');
INSERT INTO child_composite (k, n) VALUES ('A', 1), ('U', 1), ('A', 2);
INSERT INTO child_no_index (k) VALUES ('A'), ('U'), ('none');
INSERT INTO child_partitioned (k) VALUES ('A'), ('U'), ('none');
INSERT INTO child_rls (k) VALUES ('A'), ('U'), ('none');
INSERT INTO child_int (k) VALUES (1), (2), (3);
SELECT 'pk' AS parent, k, rollout_version_format(rollout_version) FROM child_pk
UNION ALL SELECT 'composite', k || n, rollout_version_format(rollout_version) FROM child_composite
UNION ALL SELECT 'no index', k, rollout_version_format(rollout_version) FROM child_no_index
UNION ALL SELECT 'partitioned', k, rollout_version_format(rollout_version) FROM child_partitioned
UNION ALL SELECT 'rls', k, rollout_version_format(rollout_version) FROM child_rls
UNION ALL SELECT 'bigint', k::text, rollout_version_format(rollout_version) FROM child_int;
-- A role with every grant of an application server but SELECT on the parent
-- gets the query's privilege error, not an answer read past it.
CREATE ROLE regress_child_writer;
GRANT INSERT ON child_pk TO regress_child_writer;
GRANT SELECT ON rollout_tagging, rollout_versions, rollout_ramp TO regress_child_writer;
SET ROLE regress_child_writer;
INSERT INTO child_pk (k) VALUES ('A');
RESET ROLE;
GRANT SELECT ON parent_pk TO regress_child_writer;
SET ROLE regress_child_writer;
INSERT INTO child_pk (k) VALUES ('A');
RESET ROLE;
DROP OWNED BY regress_child_writer;
DROP ROLE regress_child_writer;
-- A parent row updated in this transaction is seen by the next insert.
BEGIN;
UPDATE parent_pk SET rollout_version = '9.5' WHERE k = 'A';
INSERT INTO child_pk (k) VALUES ('A');
SELECT rollout_version_format(rollout_version) FROM child_pk ORDER BY ctid DESC LIMIT 1;
ROLLBACK;
DROP TABLE child, child_pk, child_composite, child_no_index, child_partitioned, child_rls,
           child_int, parent_pk, parent_composite, parent_no_index, parent_partitioned,
           parent_rls, parent_bigint;

-- Partitioned tables: the trigger is cloned to every partition.
CREATE TABLE invoice (invoice_key int, status text) PARTITION BY LIST (status);
CREATE TABLE invoice_created PARTITION OF invoice FOR VALUES IN ('00');
CREATE TABLE invoice_other PARTITION OF invoice DEFAULT;
SELECT rollout_enable_tagging('invoice');
SELECT rollout_enable_tagging('invoice');
SET rollout.version = '10.1';
INSERT INTO invoice VALUES (1, '00'), (2, '01');
CREATE TABLE invoice_late PARTITION OF invoice FOR VALUES IN ('99');
INSERT INTO invoice VALUES (3, '99');
SELECT tableoid::regclass, invoice_key, rollout_version FROM invoice ORDER BY invoice_key;

-- Re-enabling with other options takes effect at once in this session.
RESET rollout.version;
INSERT INTO audit_note VALUES ('still untagged');
SELECT rollout_enable_tagging('audit_note', if_unset => 'error');
INSERT INTO audit_note VALUES ('refused');
-- Dropping and re-adding the tagging column moves it; the trigger follows.
SET rollout.version = '10.1';
ALTER TABLE audit_note DROP COLUMN rollout_version;
INSERT INTO audit_note VALUES ('no column');
ALTER TABLE audit_note ADD COLUMN rollout_version rollout_version;
INSERT INTO audit_note VALUES ('new column');
SELECT note, rollout_version FROM audit_note ORDER BY note;

-- Disabling keeps the column and its data.
SELECT rollout_disable_tagging('audit_note');
SELECT rollout_disable_tagging('audit_note');
INSERT INTO audit_note VALUES ('after disable');
SELECT note, rollout_version FROM audit_note ORDER BY note;

-- Bad arguments to rollout_enable_tagging.
CREATE TABLE wrong_type (rollout_version bigint);
SELECT rollout_enable_tagging('wrong_type');
SELECT rollout_enable_tagging('audit_note', if_unset => 'ignore');
SELECT rollout_enable_tagging(NULL);
SELECT rollout_enable_tagging('no_such_table');
CREATE VIEW order_view AS SELECT * FROM order_header;
SELECT rollout_enable_tagging('order_view');
SELECT rollout_enable_tagging('task_q', inherit_from => 'order_header');
SELECT rollout_enable_tagging('task_q', inherit_from => 'order_header', inherit_on => '{no_such_column}');
SELECT rollout_enable_tagging('task_q', inherit_from => 'order_header', inherit_on => '{data_key}');
SELECT rollout_enable_tagging('task_q', inherit_from => 'wrong_type', inherit_on => '{data_key}', parent_columns => '{rollout_version}');
SELECT rollout_enable_tagging('task_q', inherit_from => 'order_header', inherit_on => '{data_key}', parent_columns => '{order_header_key, document_type}');
SELECT rollout_enable_tagging('wrong_type', column_name => 'tag');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'wrong_type'::regclass AND attnum > 0 ORDER BY attnum;

-- Misuse of the trigger function.
SELECT rollout_tag_trigger();
CREATE TABLE misuse (id int, rollout_version rollout_version);
CREATE TRIGGER t AFTER INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION rollout_tag_trigger();
INSERT INTO misuse VALUES (1);
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE INSERT ON misuse FOR EACH STATEMENT EXECUTE FUNCTION rollout_tag_trigger();
INSERT INTO misuse VALUES (1);
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE UPDATE ON misuse FOR EACH ROW EXECUTE FUNCTION rollout_tag_trigger();
INSERT INTO misuse VALUES (1, '10.1');
UPDATE misuse SET id = 2;
DROP TRIGGER t ON misuse;
CREATE TRIGGER t BEFORE INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION rollout_tag_trigger('id', 'error');
INSERT INTO misuse VALUES (3);
DROP TRIGGER t ON misuse;
-- Without a rollout_tagging row the trigger uses the defaults...
CREATE TRIGGER t BEFORE INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION rollout_tag_trigger();
INSERT INTO misuse VALUES (4);
DROP TRIGGER t ON misuse;
-- ... which need a rollout_version column of type rollout_version.
CREATE TABLE misuse_no_column (id int);
CREATE TRIGGER t BEFORE INSERT ON misuse_no_column FOR EACH ROW EXECUTE FUNCTION rollout_tag_trigger();
INSERT INTO misuse_no_column VALUES (5);
CREATE TABLE misuse_bigint (id int, rollout_version bigint);
CREATE TRIGGER t BEFORE INSERT ON misuse_bigint FOR EACH ROW EXECUTE FUNCTION rollout_tag_trigger();
INSERT INTO misuse_bigint VALUES (6);
SELECT id, rollout_version FROM misuse ORDER BY id;
SELECT count(*) FROM misuse_no_column, misuse_bigint;
DROP TABLE misuse_no_column, misuse_bigint;

-- Children of an untagged (legacy) parent stay untagged.
SET rollout.version = '10.1';
INSERT INTO order_header VALUES ('LEGACY', '0001', NULL);
SELECT rollout_enable_tagging('order_header', if_unset => 'null');
RESET rollout.version;
INSERT INTO order_header VALUES ('LEGACY2', '0001');
SET rollout.version = '10.1';
INSERT INTO task_q (transaction_id, data_key) VALUES ('SCHEDULE.0001', 'LEGACY2');
SELECT data_key, rollout_version FROM task_q WHERE data_key = 'LEGACY2';

-- The configuration is a table, kept by pg_dump.
SELECT tbl, column_name, if_unset, inherit_from, inherit_on, parent_columns, route_by
  FROM rollout_tagging ORDER BY tbl::text;

DROP TABLE task_q, order_header, audit_note, invoice, wrong_type, misuse CASCADE;
