-- Granary's PostgreSQL schema for the Orleans 10.4.2 ADO.NET membership and reminder providers (invariant "Npgsql").
-- The providers carry no SQL of their own: at start they run `SELECT QueryKey, QueryText FROM OrleansQuery` and then
-- execute those texts with named parameters (@DeploymentId is the cluster id, @ServiceId the service id, ...).
-- Every statement here is idempotent; PostgresOrleansSchema.ApplyAsync runs the whole file under an advisory lock, so
-- several silos may apply it at once. Query texts are upserted, so applying a newer file replaces older texts.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) PRIMARY KEY,
    QueryText text        NOT NULL
);

-- One row per cluster: the membership table's version, bumped by every membership insert or update (optimistic
-- concurrency: a writer names the version it read, and loses if another writer got there first).
CREATE TABLE IF NOT EXISTS granary_membership_version
(
    cluster_id varchar(150) PRIMARY KEY,
    version    integer      NOT NULL DEFAULT 0,
    changed_at timestamptz  NOT NULL DEFAULT now()
);

-- One row per silo incarnation (address, port, generation). status holds Orleans' SiloStatus:
-- 1 Created, 2 Joining, 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead.
CREATE TABLE IF NOT EXISTS granary_membership
(
    cluster_id      varchar(150) NOT NULL REFERENCES granary_membership_version (cluster_id) ON DELETE CASCADE,
    address         varchar(45)  NOT NULL,
    port            integer      NOT NULL,
    generation      integer      NOT NULL,
    silo_name       varchar(150) NOT NULL,
    host_name       varchar(150) NOT NULL,
    status          integer      NOT NULL,
    proxy_port      integer      NULL,
    -- "silo,time|silo,time": who suspects this silo and since when, as Orleans formats it.
    suspect_times   text         NULL,
    start_time      timestamptz  NOT NULL,
    i_am_alive_time timestamptz  NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation)
);

CREATE TABLE IF NOT EXISTS granary_reminders
(
    service_id    varchar(150) NOT NULL,
    grain_id      varchar(512) NOT NULL,
    reminder_name varchar(150) NOT NULL,
    start_time    timestamptz  NOT NULL,
    period_ms     bigint       NOT NULL,
    -- The grain's uniform hash as a signed 32-bit value: the reminder service reads rows by hash range.
    grain_hash    integer      NOT NULL,
    version       integer      NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);
CREATE INDEX IF NOT EXISTS granary_reminders_by_hash ON granary_reminders (service_id, grain_hash);

-- The named queries. Result columns are aliased to the names the providers read ("Version", "StartTime", ...).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Membership -------------------------------------------------------------------------------------------------------

-- Creates the cluster's version row unless it exists; answers whether it created it.
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO granary_membership_version (cluster_id) VALUES (@DeploymentId)
    ON CONFLICT (cluster_id) DO NOTHING
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM created);
$q$),

-- Adds a silo row if the table is still at @Version and the silo is not there yet; bumps the version in the same
-- statement. The version row's lock makes concurrent writers queue, and all but the first fail the version check.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE granary_membership_version
    SET version = version + 1, changed_at = now()
    WHERE cluster_id = @DeploymentId AND version = @Version
      AND NOT EXISTS (SELECT 1 FROM granary_membership
                      WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING cluster_id),
added AS (
    INSERT INTO granary_membership (cluster_id, address, port, generation, silo_name, host_name, status, proxy_port,
                                    start_time, i_am_alive_time)
    SELECT cluster_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM bumped
    ON CONFLICT DO NOTHING
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM added);
$q$),

-- Changes a silo's status, suspicions and heartbeat if the table is still at @Version; bumps the version.
('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE granary_membership_version
    SET version = version + 1, changed_at = now()
    WHERE cluster_id = @DeploymentId AND version = @Version
      AND EXISTS (SELECT 1 FROM granary_membership
                  WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING cluster_id),
changed AS (
    UPDATE granary_membership m
    SET status = @Status, suspect_times = CAST(@SuspectTimes AS text), i_am_alive_time = @IAmAliveTime
    FROM bumped
    WHERE m.cluster_id = bumped.cluster_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM changed);
$q$),

-- The heartbeat: not a membership change, so the version stays.
('UpdateIAmAlivetimeKey', $q$
UPDATE granary_membership
SET i_am_alive_time = @IAmAliveTime
WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation;
$q$),

-- Every silo of the cluster with the table version. The version row is the left side so that an empty cluster still
-- answers one row (the providers read the version from the first row; a row without StartTime means "no silo").
('MembershipReadAllKey', $q$
SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM granary_membership_version v
LEFT JOIN granary_membership m ON m.cluster_id = v.cluster_id
WHERE v.cluster_id = @DeploymentId;
$q$),

-- One silo with the table version (the version row alone if the silo is unknown).
('MembershipReadRowKey', $q$
SELECT v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM granary_membership_version v
LEFT JOIN granary_membership m
       ON m.cluster_id = v.cluster_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.cluster_id = @DeploymentId;
$q$),

-- Gateways for clients: silos in status @Status (Active) that accept clients.
('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
FROM granary_membership
WHERE cluster_id = @DeploymentId AND status = @Status AND proxy_port > 0;
$q$),

-- Forgets a whole cluster (its silo rows go with the version row: ON DELETE CASCADE).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM granary_membership_version WHERE cluster_id = @DeploymentId;
$q$),

-- Removes Dead silo rows whose last heartbeat is older than @IAmAliveTime (older providers' form of the clean-up).
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM granary_membership
WHERE cluster_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime;
$q$),

-- Removes one Dead silo row, only if it still holds the values the provider judged old (a row changed since is kept).
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM granary_membership
WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
  AND status = 6 AND start_time = @StartTime AND i_am_alive_time = @IAmAliveTime
  AND suspect_times IS NOT DISTINCT FROM CAST(@SuspectTimes AS text);
$q$),

-- Reminders --------------------------------------------------------------------------------------------------------

('ReadReminderRowsKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period",
       version AS "Version"
FROM granary_reminders
WHERE service_id = @ServiceId AND grain_id = @GrainId;
$q$),

('ReadReminderRowKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period",
       version AS "Version"
FROM granary_reminders
WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName;
$q$),

-- A hash range that does not wrap: (BeginHash, EndHash].
('ReadRangeRows1Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period",
       version AS "Version"
FROM granary_reminders
WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash;
$q$),

-- A hash range that wraps past the top of the ring: (BeginHash, max] and [min, EndHash].
('ReadRangeRows2Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period_ms AS "Period",
       version AS "Version"
FROM granary_reminders
WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash);
$q$),

-- Inserts or replaces a reminder and answers its new version (the provider's etag).
('UpsertReminderRowKey', $q$
INSERT INTO granary_reminders (service_id, grain_id, reminder_name, start_time, period_ms, grain_hash, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
SET start_time = EXCLUDED.start_time, period_ms = EXCLUDED.period_ms, grain_hash = EXCLUDED.grain_hash,
    version = granary_reminders.version + 1
RETURNING version AS "Version";
$q$),

-- Deletes a reminder if it is still at @Version; answers whether it did.
('DeleteReminderRowKey', $q$
WITH removed AS (
    DELETE FROM granary_reminders
    WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName AND version = @Version
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM removed);
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM granary_reminders WHERE service_id = @ServiceId;
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
