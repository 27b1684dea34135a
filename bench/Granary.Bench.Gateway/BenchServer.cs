using System.Globalization;
using DuckDB.NET.Data;
using Granary.Cli;
using Granary.Definitions;
using Granary.Gateway;
using Granary.Grains.Registry;
using Granary.Hosting;
using Granary.Online;
using Granary.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Granary.Bench.Gateway;

/// <summary>
/// The child process: a repository on the given Redis, the 50-feature view applied, every entity's row written into the
/// online store (as materialization leaves it), then the gateway co-hosted with the embedded silo on free ports, as
/// <c>granary serve</c> runs. Prints one <c>READY rest grpc project</c> line and serves until its stdin closes.
/// </summary>
internal static class BenchServer
{
    /// <summary>The HS256 secret of the secured gateway, handed to the child by environment.</summary>
    public const string JwtSecretVariable = "GRANARY_BENCH_JWT_SECRET";
    public const string JwtIssuer = "https://bench.invalid";
    public const string JwtAudience = "granary-bench";
    /// <summary>The role the bench's permission grants READ_ONLINE on the view to.</summary>
    public const string BenchRole = "bench-reader";

    public static async Task<int> RunAsync(Options options)
    {
        var redis = options.Get("redis") ?? throw new ArgumentException("server mode needs --redis host:port");
        var root = options.Get("root") ?? throw new ArgumentException("server mode needs --root DIR");
        var project = options.Get("project") ?? throw new ArgumentException("server mode needs --project NAME");
        var entities = options.Int("entities", 10_000);
        var onlineRead = Enum.Parse<OnlineReadDesign>(options.Get("online-read") ?? nameof(OnlineReadDesign.Grouped));
        var pii = options.Get("pii") ?? "none";
        Directory.CreateDirectory(Path.Combine(root, "data"));
        await File.WriteAllTextAsync(Path.Combine(root, "granary.yaml"),
            $"project: {project}\nonline_store:\n  type: redis\n  connection_string: \"{redis}\"\n");
        WriteSource(Path.Combine(root, "data", "drivers.parquet"));

        await using var store = await EmbeddedFeatureStore.StartAsync(root, null, LogLevel.Error);
        await store.Grains.GetGrain<IRegistryGrain>(project).ApplyAsync(new ApplyRequest(Snapshot(project, pii), ExpectedVersion: 0, Force: false));
        var online = store.Services.GetRequiredService<IOnlineStore>();
        var eventTime = DateTimeOffset.UtcNow.AddMinutes(-1);
        foreach (var chunk in Enumerable.Range(1, entities).Chunk(1_000))
        {
            await online.WriteAsync(chunk.Select(d => new OnlineRow(EntityKey.Create(project, "driver_id", d.ToString(CultureInfo.InvariantCulture)),
                Shape.View, eventTime, null, Row(d))).ToList());
        }

        await using var gateway = await EmbeddedGateway.StartAsync(store, o => { o.RestPort = 0; o.GrpcPort = 0; o.WebPort = GatewayOptions.WebPortOff; o.Security.Authorization = false; o.OnlineRead = onlineRead; }, LogLevel.Error);
        // A second gateway over the same silo with authorization on (API keys and HS256 JWTs), so both are measured in one run.
        var secret = Environment.GetEnvironmentVariable(JwtSecretVariable) ?? throw new ArgumentException($"server mode needs {JwtSecretVariable}");
        await using var secured = await EmbeddedGateway.StartAsync(store, o =>
        {
            o.RestPort = 0;
            o.GrpcPort = 0;
            o.WebPort = GatewayOptions.WebPortOff;
            o.OnlineRead = onlineRead;
            o.Security.Authorization = true;
            o.Security.Jwt.Issuer = JwtIssuer;
            o.Security.Jwt.Audience = JwtAudience;
            o.Security.Jwt.HmacSecret = secret;
            o.Masking.Salt = "granary-bench-masking-salt"; // a fixed salt: hash mode needs one
        }, LogLevel.Error);
        var key = await store.Grains.GetGrain<Granary.Grains.Security.IApiKeyGrain>(Granary.Grains.Security.IApiKeyGrain.Key).CreateAsync("bench", [BenchRole]);
        Console.WriteLine($"READY {gateway.RestUrl} {gateway.GrpcUrl} {project} {secured.RestUrl} {secured.GrpcUrl} {key}");
        // The parent closes our stdin (or dies) to stop us.
        await Console.In.ReadToEndAsync();
        return 0;
    }

    /// <summary>f0, f2, ... Float64; f1, f3, ... Int64: both value kinds on the wire.</summary>
    private static Dictionary<string, object?> Row(int driver)
    {
        var values = new Dictionary<string, object?>(Shape.WideFeatures, StringComparer.Ordinal);
        for (var f = 0; f < Shape.WideFeatures; f++) values[Shape.Feature(f)] = f % 2 == 0 ? driver * 0.01 + f : (object)(long)(driver * 100 + f);
        return values;
    }

    private static RegistrySnapshot Snapshot(string project, string pii) => new()
    {
        Project = project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources = [new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp" }],
        FeatureViews =
        [
            new FeatureView
            {
                Name = Shape.View, Entities = ["driver"], Source = "drivers",
                // Features tagged one by one (a view tagged pii would also make every read an audited sensitive read).
                Features = Enumerable.Range(0, Shape.WideFeatures).Select(f => new Field(Shape.Feature(f), new(f % 2 == 0 ? ScalarType.Float64 : ScalarType.Int64))
                {
                    Tags = pii == "none" ? RegistryObject.EmptyTags : new Dictionary<string, string> { ["pii"] = pii },
                }).ToList(),
            },
        ],
        Permissions = [new Permission { Name = "bench-readers", Types = ["feature_view"], Actions = [Granary.Core.Security.PermissionAction.ReadOnline], Roles = [BenchRole] }],
    };

    /// <summary>A few source rows: apply checks the view's columns against its source; serving reads Redis only.</summary>
    private static void WriteSource(string path)
    {
        var columns = string.Join(", ", Enumerable.Range(0, Shape.WideFeatures).Select(f => f % 2 == 0 ? $"i * 0.5 AS f{f}" : $"CAST(i AS BIGINT) AS f{f}"));
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"COPY (SELECT CAST(i + 1 AS BIGINT) AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, {columns} FROM range(4) t(i)) TO '{path}' (FORMAT parquet)";
        command.ExecuteNonQuery();
    }
}
