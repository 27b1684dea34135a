using Granary.Definitions;
using Granary.Grains.Registry;
using Granary.Registry;

namespace Granary.Grains.Tests;

/// <summary>Errors a user acts on keep their type and data when they cross from a silo to the caller.</summary>
public sealed class TypedErrorTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("granary-errors-").FullName;
    private ThreeSiloCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ThreeSiloCluster.StartAsync(_root);

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_registry_conflict_reaches_the_caller_with_its_versions()
    {
        var registry = _cluster.Grains.GetGrain<IRegistryGrain>("demo");
        await registry.ApplyAsync(new ApplyRequest(Definitions("first"), ExpectedVersion: 0, Force: false));

        var conflict = await Assert.ThrowsAsync<RegistryConflictException>(
            () => registry.ApplyAsync(new ApplyRequest(Definitions("second"), ExpectedVersion: 0, Force: false)));

        Assert.Equal(("demo", 0L, 1L), (conflict.Project, conflict.ExpectedVersion, conflict.CurrentVersion));
        Assert.Contains("is at version 1, not 0", conflict.Message);
        Assert.IsAssignableFrom<GranaryException>(conflict);
    }

    [Fact]
    public async Task An_unknown_version_is_a_typed_not_found_error_naming_the_current_version()
    {
        var registry = _cluster.Grains.GetGrain<IRegistryGrain>("demo");
        await registry.ApplyAsync(new ApplyRequest(Definitions("first"), ExpectedVersion: 0, Force: false));

        var missing = await Assert.ThrowsAsync<RegistryNotFoundException>(() => registry.GetVersionAsync(7));

        Assert.Contains("has no registry version 7; current version is 1", missing.Message);
    }

    private static RegistrySnapshot Definitions(string description) => new()
    {
        Project = "demo",
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id", Description = description }],
    };
}
