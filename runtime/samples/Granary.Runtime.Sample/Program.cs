using Granary.Persistence.Redis;
using Granary.Runtime;
using Granary.Runtime.Hosting;
using Granary.Runtime.Sample;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Granary runtime sample: a counter grain in a one-silo generic host.
//   dotnet run --project runtime/samples/Granary.Runtime.Sample              (state in memory)
//   dotnet run --project runtime/samples/Granary.Runtime.Sample -- --redis 127.0.0.1:16379   (state in Redis)
var redisIndex = Array.IndexOf(args, "--redis");
var redis = redisIndex >= 0 && redisIndex + 1 < args.Length ? args[redisIndex + 1] : null;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.UseGranary(silo =>
{
    if (redis is null) silo.AddMemoryGrainStorageAsDefault();
    else silo.AddRedisGrainStorageAsDefault(o => o.ConnectionString = redis);
    silo.AddGrainsFromAssembly(typeof(CounterGrain).Assembly);
});

using var host = builder.Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IGrainFactory>();

Console.WriteLine($"Granary runtime sample: counter state in {(redis is null ? "memory" : "Redis at " + redis)}");
var counter = grains.GetGrain<ICounterGrain>("visits");
var totals = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => counter.Add(1)));
Console.WriteLine($"100 parallel Add(1) calls, one at a time inside the grain: highest total returned {totals.Max()}");

await counter.Deactivate();
await Task.Delay(100); // only so the deactivation message prints before the next line; calls made meanwhile would be forwarded
Console.WriteLine($"after deactivation the next call reactivates the grain: total = {await counter.Get()}");

await host.StopAsync();
