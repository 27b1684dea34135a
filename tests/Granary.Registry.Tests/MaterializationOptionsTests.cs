using Granary.Grains.Online;
using Granary.Cli;
using Granary.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Granary.Registry.Tests;

/// <summary><c>Granary:Materialization</c> is checked when the silo starts: a bad value stops it with the key, the value and the fix.</summary>
public sealed class MaterializationOptionsTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("granary-materialization-options-").FullName;
    private string Repo => Path.Combine(_folder, "repo");

    public async Task InitializeAsync() => Assert.Equal(0, (await CliRunner.RunAsync("init", Repo)).ExitCode);

    public Task DisposeAsync()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_silo_with_a_bad_batch_size_does_not_start()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            EmbeddedFeatureStore.StartAsync(Repo, silo => silo.Services.Configure<MaterializationOptions>(o => o.BatchSize = 0)));
        Assert.Equal("Granary:Materialization:BatchSize is 0; give a whole number from 1 to 1000000 (default 2000)", Assert.Single(error.Failures));
    }

    [Fact]
    public void Every_bad_value_is_named()
    {
        var problems = new MaterializationOptions { Partitions = 0, PartitionsPerSilo = 0, BatchesInFlight = -1, PartitionAttempts = 0 }.Problems();
        Assert.Equal(
        [
            "Granary:Materialization:Partitions is 0; give 1 to 1024 partitions per run, or remove it to run PartitionsPerSilo (default 2) per active silo",
            "Granary:Materialization:PartitionsPerSilo is 0; give a whole number from 1 to 64 (default 2)",
            "Granary:Materialization:BatchesInFlight is -1; give a whole number from 1 to 1024 (default 4)",
            "Granary:Materialization:PartitionAttempts is 0; give a whole number from 1 to 100 (default 5)",
        ], problems);
        Assert.Empty(new MaterializationOptions().Problems());
    }
}
