using Granary.Hosting;
using Granary.Repository;

namespace Granary.Grains.Tests;

/// <summary>Start-up validation of the options a silo serves a repository with: the message names the key and the fix.</summary>
public sealed class GranaryOptionsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("granary-options-").FullName;

    public GranaryOptionsTests() => File.WriteAllText(Path.Combine(_root, RepositoryConfig.FileName), "project: demo\n");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_embedded_defaults_are_valid()
    {
        var options = new GranaryOptions();
        options.LoadFrom(RepositoryConfig.Load(_root), _root);
        Assert.True(new GranaryOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal((RegistryStoreKind.Sqlite, OnlineStoreKind.Sqlite, OfflineStoreKind.DuckDb), (options.Registry.Kind, options.OnlineStore.Kind, options.OfflineStore.Kind));
    }

    [Fact]
    public void A_networked_store_overridden_without_a_connection_string_names_the_yaml_key_and_the_environment_variable()
    {
        var options = new GranaryOptions();
        options.LoadFrom(RepositoryConfig.Load(_root), _root);
        options.OnlineStore.Kind = OnlineStoreKind.Redis; // e.g. env Granary__OnlineStore__Kind=Redis

        var result = new GranaryOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal("granary.yaml: online_store.connection_string is required when online_store.type is redis; set it there or in env Granary__OnlineStore__ConnectionString",
            Assert.Single(result.Failures!));
    }

    [Fact]
    public void A_repository_folder_without_granary_yaml_is_refused_with_the_fix()
    {
        var options = new GranaryOptions { RepositoryRoot = Path.Combine(_root, "missing"), Project = "demo" };

        var failure = Assert.Single(new GranaryOptionsValidator().Validate(null, options).Failures!);

        Assert.Contains("holds no granary.yaml; pass the repository folder (--repo) or create one with 'granary init <dir>'", failure);
    }
}
