namespace Granary.Client;

/// <summary>
/// A historical (training data) request: entity rows inline or an entity file the server reads, features or a feature
/// service, and where the result goes (a file on the server, the rows streamed back, or both).
/// </summary>
public sealed record HistoricalFeaturesRequest
{
    /// <summary>Entity rows: join keys, <c>event_timestamp</c> (a <see cref="DateTimeOffset"/>, sent in whole seconds) and any columns to pass through.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, object?>>? EntityRows { get; init; }

    /// <summary>Instead of <see cref="EntityRows"/>: a .parquet or .csv entity dataframe, as an absolute path on the server.</summary>
    public string? EntitiesPath { get; init; }

    /// <summary>Feature references <c>view:feature</c>; empty when <see cref="FeatureService"/> is given.</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>A feature service, instead of <see cref="Features"/>.</summary>
    public string? FeatureService { get; init; }

    /// <summary>Name output columns <c>view__feature</c>.</summary>
    public bool FullFeatureNames { get; init; }

    /// <summary>The result file on the server (absolute, .parquet or .csv); null to only stream the rows.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Bring the result rows back in <see cref="HistoricalFeaturesResult.Rows"/> (needs a Parquet output, or none).</summary>
    public bool StreamRows { get; init; }

    /// <summary>Rows per streamed message; 0 lets the server choose (1,000).</summary>
    public int ChunkRows { get; init; }
}

/// <summary>A historical job's progress as the server reports it.</summary>
/// <param name="JobId">The job's id on the server.</param>
/// <param name="Phase">The current phase: starting, loading entities, joining, on-demand transforms, writing, done.</param>
/// <param name="Percent">The phase's progress, 0-100, as the engine estimates it.</param>
/// <param name="EntityRows">Rows in the entity dataframe, once known.</param>
/// <param name="OutputRows">Rows written so far.</param>
public sealed record HistoricalProgress(string JobId, string Phase, double Percent, long EntityRows, long OutputRows);

/// <summary>A finished historical job: its counts and columns, the file on the server, and the rows when they were streamed.</summary>
/// <param name="JobId">The job's id on the server.</param>
/// <param name="OutputPath">The result file on the server; null when only rows were asked for.</param>
/// <param name="EntityRows">Rows in the entity dataframe.</param>
/// <param name="OutputRows">Rows in the result.</param>
/// <param name="Columns">The result's columns in order.</param>
/// <param name="Rows">The result rows (each in <paramref name="Columns"/> order) when streamed; otherwise empty.</param>
/// <param name="Elapsed">The job's time on the server.</param>
public sealed record HistoricalFeaturesResult(
    string JobId, string? OutputPath, long EntityRows, long OutputRows, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<object?>> Rows, TimeSpan Elapsed);

/// <summary>The served project's registry in brief (<see cref="GranaryClient.GetRegistryAsync"/>).</summary>
/// <param name="Project">The project.</param>
/// <param name="Version">Its registry version (0: nothing applied).</param>
/// <param name="InputTypes">
/// Join keys and request data fields to their declared type, as Feast's <c>ValueType</c> names (<c>Int64</c>,
/// <c>String</c>, <c>UnixTimestamp</c>, ...): what entity rows must send.
/// </param>
/// <param name="FeatureViews">Feature views and on-demand feature views.</param>
/// <param name="FeatureServices">Feature services.</param>
/// <param name="PushSources">Push sources.</param>
public sealed record RegistryInfo(
    string Project, long Version, IReadOnlyDictionary<string, string> InputTypes, IReadOnlyList<string> FeatureViews,
    IReadOnlyList<string> FeatureServices, IReadOnlyList<string> PushSources)
{
    /// <summary>The definitions behind the names: enough to check rows as the server will (e.g. a push file before sending it).</summary>
    public RegistryDefinitions Definitions { get; init; } = new([], [], []);
}

/// <summary>The served registry's entities, feature views and data sources, types as Feast's <c>ValueType</c> names (<c>Int64</c>, <c>DoubleList</c>, ...).</summary>
/// <param name="Entities">Entities.</param>
/// <param name="FeatureViews">Feature views (not on-demand ones).</param>
/// <param name="DataSources">Data sources.</param>
public sealed record RegistryDefinitions(IReadOnlyList<RegistryEntity> Entities, IReadOnlyList<RegistryFeatureView> FeatureViews, IReadOnlyList<RegistryDataSource> DataSources);

/// <summary>An entity: its join key and the key's type.</summary>
/// <param name="Name">The entity.</param>
/// <param name="JoinKey">Its join key column.</param>
/// <param name="ValueType">The key's type.</param>
public sealed record RegistryEntity(string Name, string JoinKey, string ValueType);

/// <summary>A named, typed column.</summary>
/// <param name="Name">The column.</param>
/// <param name="ValueType">Its type.</param>
public sealed record RegistryField(string Name, string ValueType);

/// <summary>A feature view: its entities, source and features.</summary>
/// <param name="Name">The view.</param>
/// <param name="Entities">Its entities.</param>
/// <param name="Source">The data source it reads.</param>
/// <param name="Features">Its features.</param>
public sealed record RegistryFeatureView(string Name, IReadOnlyList<string> Entities, string Source, IReadOnlyList<RegistryField> Features);

/// <summary>A data source: its kind and column naming.</summary>
/// <param name="Name">The source.</param>
/// <param name="Kind"><c>file</c>, <c>postgres</c>, <c>push</c> or <c>request</c>.</param>
/// <param name="BatchSource">A push source's batch source; null otherwise.</param>
/// <param name="TimestampField">The event timestamp column ("" when none).</param>
/// <param name="CreatedTimestampField">The created timestamp column; null when none.</param>
/// <param name="FieldMapping">Stored column to the name used in definitions.</param>
/// <param name="Schema">A request source's fields; empty otherwise.</param>
public sealed record RegistryDataSource(
    string Name, string Kind, string? BatchSource, string TimestampField, string? CreatedTimestampField,
    IReadOnlyDictionary<string, string> FieldMapping, IReadOnlyList<RegistryField> Schema);
