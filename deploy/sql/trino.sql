-- Trino (Hive connector) over the lake an `s3-lake://bucket/prefix` sink writes.
-- Columns: crates/lake/src/columns.rs. The shipped queries in deploy/sql/duckdb/ run on
-- Trino once $name parameters are replaced by literals or by ? of a prepared statement
-- (INTERVAL 1 SECOND is written INTERVAL '1' SECOND).
CREATE TABLE hive.sshtrail.events (
  event_id     varchar,
  "time"       timestamp(6),  -- UTC: the Parquet column is adjusted to UTC
  type         varchar,
  event_host   varchar,
  machine_id   varchar,
  component    varchar,
  outcome      varchar,
  session_id   varchar,
  "user"       varchar,
  user_id      varchar,
  source_ip    varchar,
  source_port  integer,
  action       varchar,
  object       varchar,
  object_type  varchar,
  argv         array(varchar),
  exe          varchar,
  pid          bigint,
  auth_method  varchar,
  fingerprint  varchar,
  cert_id      varchar,
  data         varchar,
  raw          varchar,
  host         varchar,
  "date"       date
)
WITH (
  external_location = 's3://BUCKET/PREFIX/',
  format = 'PARQUET',
  partitioned_by = ARRAY['host', 'date']
);
-- New hosts and days appear after:
CALL hive.system.sync_partition_metadata('sshtrail', 'events', 'ADD');
