using Granary.Definitions;
using Granary.Registry;
using Granary.Transforms;

namespace Granary.Grains.Historical;

/// <summary>Where historical jobs get definitions: the applied registry snapshot of a project and its compiled transforms.</summary>
public interface IFeatureDefinitionSource
{
    /// <summary>The latest applied registry snapshot of <paramref name="project"/>.</summary>
    Task<RegistrySnapshot> GetSnapshotAsync(string project, CancellationToken cancellationToken = default);

    /// <summary>The compiled transform of on-demand view <paramref name="view"/> in <paramref name="snapshot"/>.</summary>
    IOnDemandTransform GetTransform(RegistrySnapshot snapshot, OnDemandFeatureView view);
}

/// <summary>Definitions from the registry service, with transforms compiled once per registry version by the silo's catalog.</summary>
public sealed class RegistryFeatureDefinitionSource(RegistryService registry, TransformCatalog transforms) : IFeatureDefinitionSource
{
    /// <inheritdoc/>
    public Task<RegistrySnapshot> GetSnapshotAsync(string project, CancellationToken cancellationToken = default) => registry.GetLatestAsync(project, cancellationToken);

    /// <inheritdoc/>
    public IOnDemandTransform GetTransform(RegistrySnapshot snapshot, OnDemandFeatureView view) => transforms.GetTransform(snapshot, view.Name);
}
