using System.Globalization;
using Granary.Offline.DuckDb;
using Granary.Offline.Engine;
using Granary.Repository;

namespace Granary.Cli;

/// <summary>Writes the sample repository's Parquet files with DuckDB: hourly driver statistics and daily customer profiles over 90 days.</summary>
public static class SampleData
{
    /// <summary>Days of history generated.</summary>
    public const int Days = 90;

    /// <summary>Writes both files under <paramref name="repositoryRoot"/>, ending at <paramref name="end"/> (UTC, whole hours); returns the row counts.</summary>
    public static (long DriverRows, long CustomerRows) Write(string repositoryRoot, DateTimeOffset end)
    {
        end = new DateTimeOffset(end.UtcDateTime.Date.AddHours(end.UtcDateTime.Hour), TimeSpan.Zero);
        var endLiteral = end.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "+00";
        var drivers = string.Join(", ", SampleRepository.DriverIds);
        var customers = string.Join(", ", SampleRepository.CustomerIds);
        var driverPath = Sql.Literal(Path.Combine(repositoryRoot, SampleRepository.DriverStatsPath));
        var customerPath = Sql.Literal(Path.Combine(repositoryRoot, SampleRepository.CustomerProfilePath));
        Directory.CreateDirectory(Path.Combine(repositoryRoot, "data"));

        using var store = new DuckDbOfflineStore();
        using var connection = store.Connect();
        // Values derive from hash(key, time) so a re-run with the same end time writes the same data.
        connection.Execute($"""
            COPY (
                SELECT d.driver_id::BIGINT AS driver_id,
                       t.ts AS event_timestamp,
                       t.ts + INTERVAL 5 MINUTE AS created,
                       (0.2 + 0.7 * (hash(d.driver_id, t.ts, 'conv') % 1000) / 1000.0)::FLOAT AS conv_rate,
                       (0.5 + 0.5 * (hash(d.driver_id, t.ts, 'acc') % 1000) / 1000.0)::FLOAT AS acc_rate,
                       (hash(d.driver_id, t.ts, 'trips') % 40 + 5)::BIGINT AS avg_daily_trips
                FROM (SELECT unnest([{drivers}]) AS driver_id) d,
                     generate_series(TIMESTAMPTZ '{endLiteral}' - INTERVAL {Days} DAY, TIMESTAMPTZ '{endLiteral}', INTERVAL 1 HOUR) t(ts)
                ORDER BY event_timestamp, driver_id
            ) TO {driverPath} (FORMAT parquet)
            """);
        connection.Execute($"""
            COPY (
                SELECT c.customer_id::BIGINT AS customer_id,
                       t.ts AS event_timestamp,
                       (hash(c.customer_id, t.ts, 'balance') % 100000 / 100.0)::FLOAT AS current_balance,
                       (1 + (hash(c.customer_id, t.ts, 'pax') % 300) / 100.0)::FLOAT AS avg_passenger_count,
                       (c.customer_id * 3 + date_diff('day', TIMESTAMPTZ '{endLiteral}' - INTERVAL {Days} DAY, t.ts) * 2)::BIGINT AS lifetime_trip_count
                FROM (SELECT unnest([{customers}]) AS customer_id) c,
                     generate_series(TIMESTAMPTZ '{endLiteral}' - INTERVAL {Days} DAY, TIMESTAMPTZ '{endLiteral}', INTERVAL 1 DAY) t(ts)
                ORDER BY event_timestamp, customer_id
            ) TO {customerPath} (FORMAT parquet)
            """);
        var driverRows = Convert.ToInt64(connection.QueryScalar($"SELECT count(*) FROM read_parquet({driverPath})"), CultureInfo.InvariantCulture);
        var customerRows = Convert.ToInt64(connection.QueryScalar($"SELECT count(*) FROM read_parquet({customerPath})"), CultureInfo.InvariantCulture);
        return (driverRows, customerRows);
    }
}
