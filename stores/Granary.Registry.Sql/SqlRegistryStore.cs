using System.Data.Common;
using System.Globalization;
using Granary.Definitions;

namespace Granary.Registry.Sql;

/// <summary>
/// The registry on a SQL database. Versions are rows keyed (project, version); an append inserts version N+1
/// only while the highest stored version is N, so of two concurrent appends on N the primary key lets exactly one in.
/// SQLite and PostgreSQL share the schema and the statements; subclasses supply connections and error codes.
/// </summary>
public abstract partial class SqlRegistryStore : SqlStore, IRegistryStore
{
    /// <summary>The schema, valid on SQLite and PostgreSQL. Times are ISO-8601 text so both engines store them alike.</summary>
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS granary_registry_versions (
            project     TEXT   NOT NULL,
            version     BIGINT NOT NULL,
            created_at  TEXT   NOT NULL,
            summary     TEXT   NOT NULL,
            definitions TEXT   NOT NULL,
            PRIMARY KEY (project, version)
        );
        CREATE TABLE IF NOT EXISTS granary_materialization_intervals (
            project      TEXT NOT NULL,
            feature_view TEXT NOT NULL,
            start_time   TEXT NOT NULL,
            end_time     TEXT NOT NULL,
            recorded_at  TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS granary_materialization_intervals_view
            ON granary_materialization_intervals (project, feature_view);
        CREATE TABLE IF NOT EXISTS granary_api_keys (
            id         TEXT NOT NULL PRIMARY KEY,
            principal  TEXT NOT NULL,
            roles      TEXT NOT NULL,
            salt       TEXT NOT NULL,
            hash       TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE IF NOT EXISTS granary_erasure_tombstones (
            project      TEXT NOT NULL,
            feature_view TEXT NOT NULL,
            key_hash     TEXT NOT NULL,
            erased_at    TEXT NOT NULL,
            PRIMARY KEY (project, feature_view, key_hash)
        );
        CREATE TABLE IF NOT EXISTS granary_erasure_secret (
            id     INTEGER NOT NULL PRIMARY KEY,
            secret TEXT    NOT NULL
        );
        """;

    private readonly TimeProvider _time;

    /// <summary>Creates a store that stamps versions with <paramref name="time"/>.</summary>
    protected SqlRegistryStore(TimeProvider time) => _time = time;

    /// <inheritdoc/>
    protected override string SchemaText => Schema + QuarantineSchema;

    /// <inheritdoc/>
    public async Task<long> GetCurrentVersionAsync(string project, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await CurrentVersionAsync(connection, project, cancellationToken);
    }

    private static async Task<long> CurrentVersionAsync(DbConnection connection, string project, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, "SELECT COALESCE(MAX(version), 0) FROM granary_registry_versions WHERE project = @project", ("project", project));
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public async Task<RegistrySnapshot?> GetVersionAsync(string project, long version, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "SELECT definitions, created_at FROM granary_registry_versions WHERE project = @project AND version = @version",
            ("project", project), ("version", version));
        string json;
        DateTimeOffset createdAt;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return null;
            json = reader.GetString(0);
            createdAt = ParseTime(reader.GetString(1));
        }
        var snapshot = RegistryJson.Deserialize(json);
        return snapshot with
        {
            Project = project,
            Version = version,
            CreatedAt = createdAt,
            MaterializationIntervals = await ReadIntervalsAsync(connection, project, cancellationToken),
        };
    }

    private static async Task<IReadOnlyDictionary<string, IReadOnlyList<MaterializationInterval>>> ReadIntervalsAsync(
        DbConnection connection, string project, CancellationToken cancellationToken)
    {
        await using var command = Command(connection,
            "SELECT feature_view, start_time, end_time, recorded_at FROM granary_materialization_intervals WHERE project = @project ORDER BY recorded_at, start_time",
            ("project", project));
        var result = new Dictionary<string, List<MaterializationInterval>>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var view = reader.GetString(0);
            if (!result.TryGetValue(view, out var list)) result[view] = list = [];
            list.Add(new MaterializationInterval(ParseTime(reader.GetString(1)), ParseTime(reader.GetString(2)), ParseTime(reader.GetString(3))));
        }
        return result.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<MaterializationInterval>)kv.Value, StringComparer.Ordinal);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<RegistryVersionInfo>> GetHistoryAsync(string project, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "SELECT version, created_at, summary FROM granary_registry_versions WHERE project = @project ORDER BY version", ("project", project));
        var result = new List<RegistryVersionInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            result.Add(new RegistryVersionInfo(reader.GetInt64(0), ParseTime(reader.GetString(1)), reader.GetString(2)));
        return result;
    }

    /// <inheritdoc/>
    public async Task<RegistrySnapshot> AppendVersionAsync(string project, long expectedCurrentVersion, RegistrySnapshot definitions,
        string summary, CancellationToken cancellationToken = default)
    {
        var version = expectedCurrentVersion + 1;
        var createdAt = _time.GetUtcNow();
        var stored = definitions with
        {
            Project = project,
            Version = version,
            CreatedAt = createdAt,
            MaterializationIntervals = new Dictionary<string, IReadOnlyList<MaterializationInterval>>(),
        };
        await using var connection = await OpenAsync(cancellationToken);
        // The WHERE guards a stale expectation (someone already at N+2); the primary key settles a race on N+1.
        await using var command = Command(connection, """
            INSERT INTO granary_registry_versions (project, version, created_at, summary, definitions)
            SELECT @project, @version, @created_at, @summary, @definitions
            WHERE (SELECT COALESCE(MAX(version), 0) FROM granary_registry_versions WHERE project = @project) = @expected
            """,
            ("project", project), ("version", version), ("created_at", FormatTime(createdAt)), ("summary", summary),
            ("definitions", RegistryJson.Serialize(stored)), ("expected", expectedCurrentVersion));
        int inserted;
        try
        {
            inserted = await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            inserted = 0;
        }
        if (inserted == 0)
            throw new RegistryConflictException(project, expectedCurrentVersion, await CurrentVersionAsync(connection, project, cancellationToken));
        return stored with { MaterializationIntervals = await ReadIntervalsAsync(connection, project, cancellationToken) };
    }

    /// <inheritdoc/>
    public async Task AppendMaterializationIntervalAsync(string project, string featureView, MaterializationInterval interval,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            INSERT INTO granary_materialization_intervals (project, feature_view, start_time, end_time, recorded_at)
            VALUES (@project, @view, @start, @end, @recorded)
            """,
            ("project", project), ("view", featureView), ("start", FormatTime(interval.Start)), ("end", FormatTime(interval.End)),
            ("recorded", FormatTime(interval.RecordedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> ListProjectsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT DISTINCT project FROM granary_registry_versions ORDER BY project");
        var result = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) result.Add(reader.GetString(0));
        return result;
    }

    /// <summary>A command with named parameters, for both engines.</summary>
    internal static DbCommand Command(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            command.Parameters.Add(p);
        }
        return command;
    }

    // Fixed-width UTC text sorts in time order on both engines.
    internal static string FormatTime(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    internal static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
