-- The rollout_version type: input forms, output, formatting, operators,
-- indexes, joins, casts and aggregates.
CREATE EXTENSION rollout_ext;

-- Both input forms; output is always the numeric form.
SELECT '1010111213'::rollout_version AS numeric_form,
       '10.1.0.11.12.13'::rollout_version AS dotted_form,
       '9.4.0.1.2.3'::rollout_version AS fix_pack_form,
       '10.1'::rollout_version AS trailing_parts_zero,
       '  42  '::rollout_version AS blanks_trimmed,
       '0'::rollout_version AS zero,
       '9223372036854775807'::rollout_version AS maximum;

SELECT '10.1.0.11.12.13'::rollout_version = '1010111213'::rollout_version AS forms_equal;

SELECT v, rollout_version_format(v)
  FROM (VALUES ('1010111213'::rollout_version), ('940010203'), ('0'),
               ('9223372036854775807')) AS t(v);

-- Rejected input: each error names the value and explains the rule.
SELECT ''::rollout_version;
SELECT '   '::rollout_version;
SELECT '-1'::rollout_version;
SELECT '+1'::rollout_version;
SELECT '1 0'::rollout_version;
SELECT 'v10'::rollout_version;
SELECT '9223372036854775808'::rollout_version;
SELECT '92233720369.0'::rollout_version;
SELECT '10.10'::rollout_version;
SELECT '10.1.0.100'::rollout_version;
SELECT '1.2.3.4.5.6.7'::rollout_version;
SELECT '10..1'::rollout_version;
SELECT '10.'::rollout_version;

-- Comparison operators.
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt,
       rollout_version_cmp(a, b) AS cmp
  FROM (VALUES ('9.4'::rollout_version, '10.1'::rollout_version),
               ('10.1', '10.1.0'),
               ('10.1.0.11', '10.1.0.2')) AS t(a, b);

-- Casts to and from integers.
SELECT 1010111213::bigint::rollout_version AS from_bigint,
       42::integer::rollout_version AS from_integer,
       '10.1'::rollout_version::bigint AS to_bigint;
SELECT (-1)::bigint::rollout_version;
SELECT (-1)::integer::rollout_version;
CREATE TABLE cast_target (v rollout_version);
INSERT INTO cast_target VALUES (1010111213::bigint);  -- assignment cast
SELECT v FROM cast_target;
DROP TABLE cast_target;

-- Indexes, ordering, DISTINCT, aggregates, hash and merge joins.
CREATE TABLE versions_a (id int, v rollout_version);
CREATE TABLE versions_b (id int, v rollout_version);
INSERT INTO versions_a SELECT g, (940000000 + (g % 5) * 10000000)::bigint FROM generate_series(1, 1000) g;
INSERT INTO versions_b SELECT g, (940000000 + (g % 3) * 10000000)::bigint FROM generate_series(1, 30) g;
CREATE INDEX versions_a_v ON versions_a (v);
CREATE INDEX versions_a_v_hash ON versions_a USING hash (v);
ANALYZE versions_a, versions_b;

SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM versions_a WHERE v = '9.5';
SELECT count(*) FROM versions_a WHERE v = '9.5';
EXPLAIN (COSTS OFF) SELECT count(*) FROM versions_a WHERE v >= '9.7';
SELECT count(*) FROM versions_a WHERE v >= '9.7';
DROP INDEX versions_a_v;
EXPLAIN (COSTS OFF) SELECT count(*) FROM versions_a WHERE v = '9.5';
SELECT count(*) FROM versions_a WHERE v = '9.5';
RESET enable_seqscan;
CREATE INDEX versions_a_v ON versions_a (v);

SELECT DISTINCT v, rollout_version_format(v) FROM versions_a ORDER BY v DESC;
SELECT min(v), max(v) FROM versions_a;
SELECT min(v), max(v) FROM versions_a WHERE false;

SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM versions_a a JOIN versions_b b USING (v);
SELECT count(*) FROM versions_a a JOIN versions_b b USING (v);
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM versions_a a JOIN versions_b b USING (v);
SELECT count(*) FROM versions_a a JOIN versions_b b USING (v);
RESET enable_hashjoin;
RESET enable_nestloop;

SELECT v, count(*) FROM versions_a GROUP BY v ORDER BY v;  -- hash aggregate or sort

-- Binary send/receive round trip through COPY.
CREATE TABLE versions_copy (v rollout_version);
COPY (SELECT v FROM versions_a ORDER BY id LIMIT 5) TO '/tmp/rollout_ext_binary_copy' (FORMAT binary);
COPY versions_copy FROM '/tmp/rollout_ext_binary_copy' (FORMAT binary);
SELECT v FROM versions_copy ORDER BY v;
SELECT rollout_version_send('10.1.0.11.12.13');

DROP TABLE versions_a, versions_b, versions_copy;
