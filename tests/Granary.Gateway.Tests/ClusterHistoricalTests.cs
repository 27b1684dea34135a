using Granary.Definitions;
using Granary.Gateway.V1;
using Granary.Grains.Registry;
using Granary.Registry;
using Granary.Testing;
using Grpc.Core;

namespace Granary.Gateway.Tests;

/// <summary>
/// Historical jobs through a cluster-mode gateway: it cannot see the silos' disks, so a missing or malformed entity file
/// is found by the job on the silo, and still answers INVALID_ARGUMENT naming the file (not INTERNAL).
/// </summary>
public sealed class ClusterHistoricalTests(ClusterGatewayServer server) : IClassFixture<ClusterGatewayServer>, IAsyncLifetime
{
    private V1.Granary.GranaryClient Granary => new(server.Channel);

    public async Task InitializeAsync()
    {
        var data = Directory.CreateDirectory(Path.Combine(server.Root, "data")).FullName;
        DuckDbScript.Run($"COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 3::BIGINT AS trips) TO '{data}/drivers.parquet' (FORMAT parquet)");
        var snapshot = new RegistrySnapshot
        {
            Project = server.Project,
            Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
            DataSources = [new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp" }],
            FeatureViews =
            [
                new FeatureView
                {
                    Name = "driver_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(1),
                    Features = [new Field("trips", new(ScalarType.Int64))],
                },
            ],
        };
        var registry = server.Silo.Grains.GetGrain<IRegistryGrain>(server.Project);
        if ((await registry.GetSnapshotAsync()).Version == 0) await server.Silo.Grains.ApplyAsync(snapshot);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_missing_entity_file_is_invalid_argument_naming_it()
    {
        var missing = Path.Combine(server.Root, "data", "nowhere", "entities.parquet");
        var e = await Assert.ThrowsAsync<RpcException>(() => RunAsync(missing));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.True(e.Status.Detail.Contains($"entity dataframe file '{missing}' does not exist", StringComparison.Ordinal), e.Status.Detail);
    }

    [Fact]
    public async Task A_malformed_entity_file_is_invalid_argument_naming_it()
    {
        var garbage = Path.Combine(Directory.CreateDirectory(Path.Combine(server.Root, "data")).FullName, "garbage.parquet");
        await File.WriteAllTextAsync(garbage, "not a parquet file");
        var e = await Assert.ThrowsAsync<RpcException>(() => RunAsync(garbage));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.True(e.Status.Detail.Contains($"entity dataframe file '{garbage}' cannot be read as Parquet", StringComparison.Ordinal), e.Status.Detail);
    }

    private async Task RunAsync(string entities)
    {
        using var call = Granary.GetHistoricalFeatures(new GetHistoricalFeaturesRequest
        {
            EntitiesPath = entities, Features = { "driver_stats:trips" }, OutputPath = Path.Combine(server.Root, "data", "out.parquet"),
        }, deadline: DateTime.UtcNow.AddMinutes(1));
        while (await call.ResponseStream.MoveNext()) { }
    }
}
