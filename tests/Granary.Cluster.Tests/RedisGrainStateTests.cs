using Granary.Grains.Diagnostics;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Granary.Cluster.Tests;

/// <summary>Grain state in Redis (Microsoft.Orleans.Persistence.Redis) across silo restarts and a Redis crash.</summary>
public sealed class RedisGrainStateTests : IAsyncLifetime
{
    private readonly RedisServerProcess redis = new();
    private readonly string serviceId = "redis-" + Guid.NewGuid().ToString("N")[..8];
    private IHost? silo;

    public Task InitializeAsync() => redis.StartAsync();

    public async Task DisposeAsync()
    {
        if (silo is not null) await InProcessSilos.StopAllAsync([silo]);
        redis.Dispose();
    }

    private Task<IHost> StartSiloAsync() =>
        InProcessSilos.StartSiloAsync(serviceId, s =>
        {
            s.UseLocalhostClustering(FreePorts.Take(1)[0], FreePorts.Take(1)[0], serviceId: serviceId, clusterId: serviceId);
            s.AddRedisGrainStorageAsDefault(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis.Endpoint));
        });

    private async Task RestartSiloAsync()
    {
        await InProcessSilos.StopAllAsync([silo!]);
        silo = await StartSiloAsync();
    }

    private ICounterGrain Counter => silo!.Grains().GetGrain<ICounterGrain>("orders");

    [Fact]
    public async Task A_counter_keeps_its_value_across_a_silo_restart_and_a_Redis_crash()
    {
        silo = await StartSiloAsync();
        for (var i = 0; i < 5; i++) await Counter.Increment();

        await RestartSiloAsync();
        Assert.Equal(5, await Counter.Get());
        Assert.Equal(6, await Counter.Increment());

        redis.Kill();
        await redis.StartAsync();
        // The running silo's connection comes back on its own; the first writes may fail while it reconnects.
        long seventh = 0;
        await Eventually.WaitUntil(async () =>
        {
            try { seventh = await Counter.Increment(); return true; }
            catch (Exception) { return false; }
        }, TimeSpan.FromSeconds(30), "an increment accepted after Redis restarted");
        Assert.Equal(7, seventh);

        await RestartSiloAsync();
        Assert.Equal(7, await Counter.Get());
    }
}
