extern alias gateway;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Granary.Definitions;
using Granary.Testing;
using GatewayOptions = gateway::Granary.Gateway.GatewayOptions;

namespace Granary.Client.Tests;

/// <summary>
/// One real server for the whole test run: an embedded silo over a fresh repository with <c>driver_stats</c> materialized
/// (driver 1 and 2 have rows, 3 none), a push source, and the gateway on a fixed free loopback port so a test can stop it and
/// start it again where the client expects it.
/// </summary>
public sealed class ClientServer : EmbeddedServerFixture
{
    public static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public ClientServer() : base("cl", "granary-client-")
    {
    }

    public int GrpcPort { get; } = FreePort();
    public Uri Address => new($"http://127.0.0.1:{GrpcPort}");

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreePort() => FreePorts.One();

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(Definitions());
        await MaterializeAsync("driver_stats", Day, Day.AddDays(2));
    }

    /// <summary>The gRPC port stays <see cref="GrpcPort"/> across <see cref="EmbeddedServerFixture.StopGatewayAsync"/> and <see cref="EmbeddedServerFixture.StartGatewayAsync"/>.</summary>
    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = GrpcPort;
        o.WebPort = GatewayOptions.WebPortOff;
    }

    private RegistrySnapshot Definitions() => new()
    {
        Project = Project,
        Entities = [new Entity { Name = "driver", JoinKey = "driver_id" }],
        DataSources =
        [
            new FileSource { Name = "drivers", Path = "data/drivers.parquet", TimestampField = "event_timestamp" },
            new FileSource { Name = "pushed_batch", Path = "data/pushed.parquet", TimestampField = "event_timestamp" },
            new PushSource { Name = "driver_push", BatchSource = "pushed_batch" },
        ],
        FeatureViews =
        [
            new FeatureView
            {
                Name = "driver_stats", Entities = ["driver"], Source = "drivers", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("conv_rate", new(ScalarType.Float64)), new Field("trips", new(ScalarType.Int64))],
            },
            new FeatureView
            {
                Name = "pushed_stats", Entities = ["driver"], Source = "driver_push", Ttl = TimeSpan.FromDays(36500),
                Features = [new Field("speed", new(ScalarType.Float64))],
            },
        ],
        FeatureServices =
        [
            new FeatureService { Name = "driver_service", Projections = [new FeatureViewProjection { View = "driver_stats", Features = ["trips"] }] },
        ],
    };

    protected override void WriteData(TestRepository repository) => repository.WriteData(data => $"""
            COPY (SELECT * FROM (VALUES
                (1::BIGINT, TIMESTAMPTZ '2024-01-01 10:00:00+00', 0.5::DOUBLE, 20::BIGINT),
                (2::BIGINT, TIMESTAMPTZ '2024-01-01 12:00:00+00', 0.25::DOUBLE, 5::BIGINT))
              t(driver_id, event_timestamp, conv_rate, trips)) TO '{data}/drivers.parquet' (FORMAT parquet);
            COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS event_timestamp, 1.0::DOUBLE AS speed) TO '{data}/pushed.parquet' (FORMAT parquet);
            """);
}

/// <summary>Every client test shares one server and runs one after another (the breaker test stops and restarts the gateway).</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ClientServer>
{
    public const string Name = "server";
}

/// <summary>A clock the tests move by hand: cache TTLs and breaker breaks pass without waiting.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// Counts the gRPC calls the client sends, one per attempt, answered or not. (An HTTP handler would miss attempts that fail
/// to connect: Grpc.Net.Client's connection management fails those before the handler is reached.)
/// </summary>
public sealed class CountingInterceptor : Interceptor
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        Interlocked.Increment(ref _count);
        return continuation(request, context);
    }
}
