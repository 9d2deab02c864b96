-- The lake as one view. Replace LAKE with where the sink writes: 's3://bucket/prefix'
-- (after `INSTALL httpfs; LOAD httpfs;` and `CREATE SECRET (TYPE s3, PROVIDER credential_chain)`),
-- or a local copy ('aws s3 sync s3://bucket/prefix ./lake').
-- host and date come from the Hive partitions (host=<h>/date=<YYYY-MM-DD>/); typed here so
-- that a host called 2024 stays text.
CREATE OR REPLACE VIEW sshtrail_events AS
SELECT *
FROM read_parquet(
    'LAKE/host=*/date=*/*.parquet',
    hive_partitioning = true,
    hive_types = {'host': VARCHAR, 'date': DATE}
);
