namespace Granary.Definitions;

/// <summary>One immutable version of a project's definitions, as stored by the registry.</summary>
public sealed record RegistrySnapshot
{
    /// <summary>The project name.</summary>
    public required string Project { get; init; }
    /// <summary>Version number: 0 for the empty registry, then 1, 2, ... one per apply or rollback.</summary>
    public long Version { get; init; }
    /// <summary>When this version was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Entities.</summary>
    public IReadOnlyList<Entity> Entities { get; init; } = [];
    /// <summary>Data sources (file, PostgreSQL, push, request).</summary>
    public IReadOnlyList<DataSource> DataSources { get; init; } = [];
    /// <summary>Feature views.</summary>
    public IReadOnlyList<FeatureView> FeatureViews { get; init; } = [];
    /// <summary>On-demand feature views.</summary>
    public IReadOnlyList<OnDemandFeatureView> OnDemandFeatureViews { get; init; } = [];
    /// <summary>Feature services.</summary>
    public IReadOnlyList<FeatureService> FeatureServices { get; init; } = [];
    /// <summary>Permissions: who may do what to which objects (deny by default).</summary>
    public IReadOnlyList<Permission> Permissions { get; init; } = [];
    /// <summary>The C# source of the repository's transforms, file name -> code; compiled into the transforms of on-demand views.</summary>
    public IReadOnlyDictionary<string, string> TransformSources { get; init; } = RegistryObject.EmptyTags;
    /// <summary>Materialized intervals per feature view name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<MaterializationInterval>> MaterializationIntervals { get; init; }
        = new Dictionary<string, IReadOnlyList<MaterializationInterval>>();

    /// <summary>The entity named <paramref name="name"/>, or null.</summary>
    public Entity? FindEntity(string name) => Entities.FirstOrDefault(e => e.Name == name);
    /// <summary>The data source named <paramref name="name"/>, or null.</summary>
    public DataSource? FindDataSource(string name) => DataSources.FirstOrDefault(s => s.Name == name);
    /// <summary>The feature view named <paramref name="name"/>, or null.</summary>
    public FeatureView? FindFeatureView(string name) => FeatureViews.FirstOrDefault(v => v.Name == name);
    /// <summary>The on-demand feature view named <paramref name="name"/>, or null.</summary>
    public OnDemandFeatureView? FindOnDemandFeatureView(string name) => OnDemandFeatureViews.FirstOrDefault(v => v.Name == name);
    /// <summary>The feature service named <paramref name="name"/>, or null.</summary>
    public FeatureService? FindFeatureService(string name) => FeatureServices.FirstOrDefault(s => s.Name == name);
}


/// <summary>One entry of a project's registry history.</summary>
/// <param name="Version">The version number.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Summary">What created it, e.g. "apply: 3 added, 1 changed" or "rollback to version 2".</param>
public sealed record RegistryVersionInfo(long Version, DateTimeOffset CreatedAt, string Summary);
