using Granary.Definitions;
using Granary.Repository;

namespace Granary.Cli;

/// <summary>The steps plan and apply share: load the repository, validate it (with the real data's columns), snapshot it.</summary>
public static class RepositoryWorkflow
{
    /// <summary>Loads the repository and validates it completely; throws <see cref="RepositoryValidationException"/> listing every problem.</summary>
    public static async Task<RegistrySnapshot> LoadValidatedAsync(LocalRegistry registry, CancellationToken cancellationToken)
    {
        var repository = FeatureRepositoryLoader.Load(registry.RepositoryRoot);
        // The registry's catalog compiles the transforms once for validation and keeps them for apply's own check.
        await RepositoryValidator.ValidateAsync(repository, registry.SchemaReader, registry.Transforms, cancellationToken);
        return repository.ToSnapshot();
    }
}
