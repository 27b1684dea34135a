using Granary.Definitions;

namespace Granary.Repository;

/// <summary>A definition read from a repository file, with where it and its fields are written.</summary>
public sealed record Defined<T>(T Value, SourceLocation Location, IReadOnlyDictionary<string, SourceLocation> Fields)
    where T : notnull
{
    /// <summary>Where <paramref name="field"/> is written (e.g. <c>source</c>, <c>entities[1]</c>), or the object's own line.</summary>
    public SourceLocation At(string field) => Fields.TryGetValue(field, out var l) ? l : Location;
}

/// <summary>A loaded feature repository: its configuration, its definitions with their locations, and its transform sources.</summary>
public sealed class FeatureRepository
{
    /// <summary>The folder holding granary.yaml.</summary>
    public required string RootPath { get; init; }
    /// <summary>granary.yaml.</summary>
    public required RepositoryConfig Config { get; init; }
    /// <summary>Entities, in file order.</summary>
    public required IReadOnlyList<Defined<Entity>> Entities { get; init; }
    /// <summary>Data sources, in file order.</summary>
    public required IReadOnlyList<Defined<DataSource>> DataSources { get; init; }
    /// <summary>Feature views, in file order.</summary>
    public required IReadOnlyList<Defined<FeatureView>> FeatureViews { get; init; }
    /// <summary>On-demand feature views, in file order.</summary>
    public required IReadOnlyList<Defined<OnDemandFeatureView>> OnDemandFeatureViews { get; init; }
    /// <summary>Feature services, in file order.</summary>
    public required IReadOnlyList<Defined<FeatureService>> FeatureServices { get; init; }
    /// <summary>Permissions, in file order.</summary>
    public IReadOnlyList<Defined<Permission>> Permissions { get; init; } = [];
    /// <summary>The transforms' C# source: path relative to the repository (e.g. <c>transforms/conv_rate.cs</c>) -> code.</summary>
    public required IReadOnlyDictionary<string, string> TransformSources { get; init; }

    /// <summary>
    /// The definitions of <paramref name="snapshot"/> as a repository, for validating definitions that arrive without
    /// files (e.g. an apply from a client other than the CLI); every location names <paramref name="origin"/>.
    /// </summary>
    public static FeatureRepository FromSnapshot(RegistrySnapshot snapshot, string origin, string rootPath = "")
    {
        var location = new SourceLocation(origin, 0);
        var noFields = new Dictionary<string, SourceLocation>();
        Defined<T> Wrap<T>(T value) where T : notnull => new(value, location, noFields);
        return new FeatureRepository
        {
            RootPath = rootPath,
            Config = new RepositoryConfig { Project = snapshot.Project },
            Entities = snapshot.Entities.Select(Wrap).ToList(),
            DataSources = snapshot.DataSources.Select(Wrap).ToList(),
            FeatureViews = snapshot.FeatureViews.Select(Wrap).ToList(),
            OnDemandFeatureViews = snapshot.OnDemandFeatureViews.Select(Wrap).ToList(),
            FeatureServices = snapshot.FeatureServices.Select(Wrap).ToList(),
            Permissions = snapshot.Permissions.Select(Wrap).ToList(),
            TransformSources = snapshot.TransformSources,
        };
    }

    /// <summary>The definitions as an unversioned registry snapshot (version 0), ready to plan or apply.</summary>
    public RegistrySnapshot ToSnapshot() => new()
    {
        Project = Config.Project,
        Entities = Entities.Select(e => e.Value).ToList(),
        DataSources = DataSources.Select(e => e.Value).ToList(),
        FeatureViews = FeatureViews.Select(e => e.Value).ToList(),
        OnDemandFeatureViews = OnDemandFeatureViews.Select(e => e.Value).ToList(),
        FeatureServices = FeatureServices.Select(e => e.Value).ToList(),
        Permissions = Permissions.Select(e => e.Value).ToList(),
        TransformSources = new SortedDictionary<string, string>(TransformSources.ToDictionary(), StringComparer.Ordinal),
    };
}
