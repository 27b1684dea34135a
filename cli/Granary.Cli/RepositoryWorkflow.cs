using Granary.Definitions;
using Granary.Hosting;
using Granary.Repository;
using Granary.Transforms;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Cli;

/// <summary>The steps plan and apply share: load the repository, validate it (with the real data's columns), snapshot it.</summary>
public static class RepositoryWorkflow
{
    /// <summary>Loads the repository the store serves and validates it completely; throws <see cref="RepositoryValidationException"/> listing every problem.</summary>
    public static async Task<RegistrySnapshot> LoadValidatedAsync(EmbeddedFeatureStore store, CancellationToken cancellationToken)
    {
        var repository = FeatureRepositoryLoader.Load(store.RepositoryRoot);
        // The silo's catalog compiles the transforms once for validation and keeps them for the registry grain's own check.
        await RepositoryValidator.ValidateAsync(repository, store.Services.GetRequiredService<ISourceSchemaReader>(),
            store.Services.GetRequiredService<TransformCatalog>(), cancellationToken);
        return repository.ToSnapshot();
    }
}
