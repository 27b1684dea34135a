using System.Text.Json.Serialization;

namespace Granary.Definitions;

/// <summary>Common parts of every registry object: a unique name within its kind, a description and tags.</summary>
public abstract record RegistryObject
{
    /// <summary>Unique name within the object's kind.</summary>
    public required string Name { get; init; }
    /// <summary>Free text for humans.</summary>
    public string? Description { get; init; }
    /// <summary>Key/value labels (e.g. team, owner).</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = EmptyTags;

    /// <summary>An empty, shared tag map.</summary>
    public static readonly IReadOnlyDictionary<string, string> EmptyTags = new Dictionary<string, string>();
}

/// <summary>A kind of thing features describe (a user, a driver), identified by one join key.</summary>
public sealed record Entity : RegistryObject
{
    /// <summary>The column that identifies the entity; defaults to the entity's name.</summary>
    public required string JoinKey { get; init; }
    /// <summary>The join key's value type.</summary>
    public ValueType ValueType { get; init; } = new(ScalarType.Int64);
}

/// <summary>Where rows come from: a batch table or file, a push source, or request-time data.</summary>
/// <remarks>JSON keeps the concrete kind in a "kind" discriminator.</remarks>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(FileSource), "file")]
[JsonDerivedType(typeof(PostgresSource), "postgres")]
[JsonDerivedType(typeof(PushSource), "push")]
[JsonDerivedType(typeof(RequestSource), "request")]
public abstract record DataSource : RegistryObject
{
    /// <summary>Column holding each row's event time. Empty for request sources.</summary>
    public string TimestampField { get; init; } = "";
    /// <summary>Optional column holding when the row was written; breaks event-time ties (later wins).</summary>
    public string? CreatedTimestampField { get; init; }
    /// <summary>Renames source columns to feature/join-key names: source column -> name used in definitions.</summary>
    public IReadOnlyDictionary<string, string> FieldMapping { get; init; } = EmptyTags;
}

/// <summary>Parquet data: one file, or a folder (every <c>*.parquet</c> below it). Relative paths are relative to the repository.</summary>
public sealed record FileSource : DataSource
{
    /// <summary>The file or folder path.</summary>
    public required string Path { get; init; }
}

/// <summary>A PostgreSQL table or query (exactly one of <see cref="Table"/> and <see cref="Query"/>).</summary>
public sealed record PostgresSource : DataSource
{
    /// <summary>A table name, optionally schema-qualified.</summary>
    public string? Table { get; init; }
    /// <summary>A SELECT whose result is the source.</summary>
    public string? Query { get; init; }
}

/// <summary>A streaming source written by <c>push</c>; its batch source holds the history used offline.</summary>
public sealed record PushSource : DataSource
{
    /// <summary>Name of the batch source (file or PostgreSQL) that offline reads use and offline pushes append to.</summary>
    public required string BatchSource { get; init; }
    /// <summary>The stream a <c>granary ingest</c> worker (or the silos) reads into this push source; null when rows arrive only by push.</summary>
    public StreamDefinition? Stream { get; init; }
}

/// <summary>
/// A stream read into a push source through a consumer group: events are mapped to push rows (fields renamed by
/// <see cref="FieldMapping"/>, the event id field becoming the push's event id column), pushed in micro-batches of
/// <see cref="BatchSize"/> events or <see cref="BatchTime"/>, whichever comes first, and acknowledged only once pushed.
/// </summary>
public sealed record StreamDefinition
{
    /// <summary>The stream kind; <c>redis</c> (Redis Streams) is the one built.</summary>
    public required string Type { get; init; }
    /// <summary>Where the stream lives (for Redis a StackExchange.Redis configuration string); null: the online store's connection.</summary>
    public string? Connection { get; init; }
    /// <summary>The stream's key (Redis) or topic.</summary>
    public required string Key { get; init; }
    /// <summary>The consumer group the workers share.</summary>
    public required string Group { get; init; }
    /// <summary>The event field holding each event's unique id (deduplication key of the push path).</summary>
    public required string EventIdField { get; init; }
    /// <summary>The event field holding each event's event time (as written by the producer, before renaming).</summary>
    public required string EventTimeField { get; init; }
    /// <summary>Renames event fields to push columns: event field -> column; fields not named keep their names.</summary>
    public IReadOnlyDictionary<string, string> FieldMapping { get; init; } = RegistryObject.EmptyTags;
    /// <summary>Events per push at most.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;
    /// <summary>How long the first event of a micro-batch waits for more before the batch is pushed.</summary>
    public TimeSpan BatchTime { get; init; } = DefaultBatchTime;
    /// <summary>How long an event may stay read but unacknowledged by a worker before another worker claims it.</summary>
    public TimeSpan ClaimAfter { get; init; } = DefaultClaimAfter;
    /// <summary>Where events that cannot be mapped or validated go, with their reason and position; null: <c>&lt;key&gt;:dead-letter</c>.</summary>
    public string? DeadLetterKey { get; init; }
    /// <summary>Where pushed rows go: <c>online</c>, <c>offline</c> or <c>online_and_offline</c> (the default).</summary>
    public string To { get; init; } = DefaultTo;

    /// <summary>The dead-letter stream's key.</summary>
    public string DeadLetters => DeadLetterKey ?? $"{Key}:dead-letter";

    /// <summary>Default <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 200;
    /// <summary>Default <see cref="BatchTime"/>.</summary>
    public static readonly TimeSpan DefaultBatchTime = TimeSpan.FromSeconds(5);
    /// <summary>Default <see cref="ClaimAfter"/>.</summary>
    public static readonly TimeSpan DefaultClaimAfter = TimeSpan.FromSeconds(60);
    /// <summary>Default <see cref="To"/>.</summary>
    public const string DefaultTo = "online_and_offline";
    /// <summary>The stream kinds built.</summary>
    public static readonly IReadOnlyList<string> Types = ["redis"];
    /// <summary>The values <see cref="To"/> takes.</summary>
    public static readonly IReadOnlyList<string> Modes = ["online", "offline", "online_and_offline"];
}

/// <summary>Fields supplied with each request (online) or as entity-dataframe columns (offline), feeding on-demand views.</summary>
public sealed record RequestSource : DataSource
{
    /// <summary>The request fields.</summary>
    public required IReadOnlyList<Field> Schema { get; init; }
}

/// <summary>A group of features over the same entities from one source, with a TTL.</summary>
public sealed record FeatureView : RegistryObject
{
    /// <summary>Names of the entities whose join keys key this view (may be empty for entity-less views).</summary>
    public IReadOnlyList<string> Entities { get; init; } = [];
    /// <summary>The features (not join keys or timestamps).</summary>
    public required IReadOnlyList<Field> Features { get; init; }
    /// <summary>Name of the data source (batch or push).</summary>
    public required string Source { get; init; }
    /// <summary>How far back a value is valid: offline, rows older than T - ttl are ignored; online, older values are OUTSIDE_MAX_AGE. Null or zero: no limit.</summary>
    public TimeSpan? Ttl { get; init; }
    /// <summary>Whether the view is materialized to and served from the online store.</summary>
    public bool Online { get; init; } = true;
    /// <summary>Who owns the view (an email or team).</summary>
    public string? Owner { get; init; }
    /// <summary>How fresh online values are expected to be; older values are flagged stale. Null: no SLA.</summary>
    public TimeSpan? FreshnessSla { get; init; }

    /// <summary>How often a scheduled materialization runs (an Orleans reminder per view); null for no schedule.</summary>
    public TimeSpan? MaterializeEvery { get; init; }

    /// <summary>How far back each scheduled run reaches ([now - lookback, now]); default twice <see cref="MaterializeEvery"/>.</summary>
    public TimeSpan? MaterializeLookback { get; init; }

    /// <summary>The quality gate a materialization run must pass before it writes online; null: none.</summary>
    public QualityGate? QualityGate { get; init; }

    /// <summary>True when the TTL bounds lookups (non-null and positive).</summary>
    public bool HasTtl => Ttl is { } t && t > TimeSpan.Zero;
}

/// <summary>Features computed at request time by a C# transform from feature views and request data; the same compiled code runs online and offline.</summary>
public sealed record OnDemandFeatureView : RegistryObject
{
    /// <summary>Inputs: names of feature views and request sources.</summary>
    public required IReadOnlyList<string> Sources { get; init; }
    /// <summary>The output features.</summary>
    public required IReadOnlyList<Field> Features { get; init; }
    /// <summary>The transform's class name (a type implementing <see cref="IOnDemandTransform"/> in the repository's transforms).</summary>
    public required string Transform { get; init; }
}

/// <summary>A view's features as used by a feature service or a query: optionally a subset, an alias, and a join-key map.</summary>
public sealed record FeatureViewProjection
{
    /// <summary>The feature view or on-demand feature view.</summary>
    public required string View { get; init; }
    /// <summary>The selected features; empty means all.</summary>
    public IReadOnlyList<string> Features { get; init; } = [];
    /// <summary>Replaces the view name in full feature names (<c>alias__feature</c>).</summary>
    public string? Alias { get; init; }
    /// <summary>Maps the view's join key to the entity-dataframe column to join on (e.g. location_id -> origin_id).</summary>
    public IReadOnlyDictionary<string, string> JoinKeyMap { get; init; } = RegistryObject.EmptyTags;

    /// <summary>The name used as prefix in full feature names.</summary>
    public string NameToUse => Alias ?? View;
}

/// <summary>The versioned feature set of one model.</summary>
public sealed record FeatureService : RegistryObject
{
    /// <summary>The projections that make up the service.</summary>
    public required IReadOnlyList<FeatureViewProjection> Projections { get; init; }
}

/// <summary>
/// Who may do what to which objects, in Feast's permission model (<c>feast.permissions.permission.Permission</c>): the
/// objects of <see cref="Types"/> whose name matches one of <see cref="NamePatterns"/> and whose tags hold every
/// <see cref="RequiredTags"/> entry may have <see cref="Actions"/> done to them by a principal holding one of <see cref="Roles"/>.
/// What no permission grants is refused.
/// </summary>
public sealed record Permission : RegistryObject
{
    /// <summary>The object kinds it covers, as Feast names them (<c>feature_view</c>, <c>feature_service</c>, ...); empty = every kind.</summary>
    public IReadOnlyList<string> Types { get; init; } = [];
    /// <summary>Regular expressions, one of which must match the whole object name; empty = every name.</summary>
    public IReadOnlyList<string> NamePatterns { get; init; } = [];
    /// <summary>Tags the object must carry with exactly these values.</summary>
    public IReadOnlyDictionary<string, string> RequiredTags { get; init; } = EmptyTags;
    /// <summary>The actions it grants.</summary>
    public required IReadOnlyList<global::Granary.Core.Security.PermissionAction> Actions { get; init; }
    /// <summary>The roles it grants them to (Feast's <c>RoleBasedPolicy</c>): holding any one is enough.</summary>
    public required IReadOnlyList<string> Roles { get; init; }
}

/// <summary>A time window [Start, End] that was materialized for a view.</summary>
public sealed record MaterializationInterval(DateTimeOffset Start, DateTimeOffset End, DateTimeOffset RecordedAt);
