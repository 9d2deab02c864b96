-- Amazon Athena (engine v3) over the lake an `s3-lake://bucket/prefix` sink writes.
-- Partition projection: no crawler and no MSCK REPAIR; a new host or day is queryable at
-- once. Set the date range's start to your first day. Columns: crates/lake/src/columns.rs.
CREATE EXTERNAL TABLE sshtrail_events (
  event_id     string,
  `time`       timestamp,
  type         string,
  event_host   string,
  machine_id   string,
  component    string,
  outcome      string,
  session_id   string,
  `user`       string,
  user_id      string,
  source_ip    string,
  source_port  int,
  action       string,
  object       string,
  object_type  string,
  argv         array<string>,
  exe          string,
  pid          bigint,
  auth_method  string,
  fingerprint  string,
  cert_id      string,
  data         string,
  raw          string
)
PARTITIONED BY (host string, `date` string)
STORED AS PARQUET
LOCATION 's3://BUCKET/PREFIX/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.host.type' = 'injected',
  'projection.date.type' = 'date',
  'projection.date.format' = 'yyyy-MM-dd',
  'projection.date.range' = '2026-01-01,NOW',
  'storage.location.template' = 's3://BUCKET/PREFIX/host=${host}/date=${date}/'
);
-- host is an injected partition: every query names it (host = '…' or host IN (…)).
-- Across every host, use a Glue crawler or `MSCK REPAIR TABLE sshtrail_events` with
-- 'projection.enabled' = 'false' instead.
--
-- What did this account do last week, on these hosts?
-- SELECT host, "time", type, action, object, argv, source_ip, session_id
-- FROM sshtrail_events
-- WHERE host IN ('web-1', 'web-2') AND "date" >= '2026-11-23' AND "date" < '2026-11-30'
--   AND "user" = 'alice'
-- ORDER BY "time", event_id;
