using System.Diagnostics;
using Granary.Bench.Runtime;
using Granary.Persistence.Redis;
using Granary.Runtime;
using Granary.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Granary runtime benchmark: local grain calls/s with p50/p99 latency.
//   dotnet run -c Release --project bench/Granary.Bench.Runtime [-- --seconds 5 --redis 127.0.0.1:16379]
var seconds = IntOption("--seconds", 5);
var redis = StringOption("--redis", null) ?? Environment.GetEnvironmentVariable("GRANARY_TEST_REDIS") ?? "127.0.0.1:16379";

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.ClearProviders();
builder.UseGranary(silo => silo
    .AddMemoryGrainStorageAsDefault()
    .AddRedisGrainStorage("redis", o =>
    {
        o.ConnectionString = redis;
        o.KeyPrefix = "granary-bench-" + Guid.NewGuid().ToString("N");
        o.EntryExpiry = TimeSpan.FromMinutes(10);
    })
    .AddGrainsFromAssembly(typeof(PingGrain).Assembly));
using var host = builder.Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IGrainFactory>();

Console.WriteLine($"Granary runtime benchmark  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC  {Environment.ProcessorCount} cores  .NET {Environment.Version}  {seconds} s per scenario");
Console.WriteLine($"{"scenario",-52} {"calls/s",12} {"p50 us",9} {"p99 us",9} {"alloc B/call",13}");

var cores = Environment.ProcessorCount;
await Run("trivial call, 1 caller, own grain", 1, seconds, i => grains.GetGrain<IPingGrain>(i), static (g, n) => g.Ping(n));
await Run($"trivial call, {cores} callers, own grain each", cores, seconds, i => grains.GetGrain<IPingGrain>(100 + i), static (g, n) => g.Ping(n));
await Run($"trivial call, {cores * 4} callers, own grain each", cores * 4, seconds, i => grains.GetGrain<IPingGrain>(200 + i), static (g, n) => g.Ping(n));
await Run("trivial call, 8 callers, one shared grain", 8, seconds, _ => grains.GetGrain<IPingGrain>(999), static (g, n) => g.Ping(n));
await Run($"Redis state write, 1 caller ({redis})", 1, seconds, i => grains.GetGrain<IStoreGrain>(i), static (g, n) => new ValueTask<int>(g.Save(n)));
await Run($"Redis state write, 16 callers, own grain each", 16, seconds, i => grains.GetGrain<IStoreGrain>(100 + i), static (g, n) => new ValueTask<int>(g.Save(n)));

await host.StopAsync();

static async Task Run<TGrain>(string name, int callers, int seconds, Func<int, TGrain> grainOf, Func<TGrain, int, ValueTask<int>> call)
{
    var targets = Enumerable.Range(0, callers).Select(grainOf).ToArray();
    // Warm-up: activate every grain and let the JIT tier up.
    var warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
    await Task.WhenAll(targets.Select(t => Task.Run(async () =>
    {
        var n = 0;
        while (Stopwatch.GetTimestamp() < warmUntil) await call(t, n++);
    })));

    var histograms = targets.Select(_ => new LatencyHistogram()).ToArray();
    GC.Collect();
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var started = Stopwatch.GetTimestamp();
    var stopAt = started + seconds * Stopwatch.Frequency;
    await Task.WhenAll(targets.Select((t, i) => Task.Run(async () =>
    {
        var histogram = histograms[i];
        var n = 0;
        while (true)
        {
            var before = Stopwatch.GetTimestamp();
            if (before >= stopAt) break;
            var result = await call(t, n);
            histogram.Record(Stopwatch.GetTimestamp() - before);
            if (result < n) throw new InvalidOperationException("wrong result");
            n++;
        }
    })));
    var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
    var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

    var total = new LatencyHistogram();
    foreach (var h in histograms) total.Add(h);
    Console.WriteLine($"{name,-52} {total.Count / elapsed,12:N0} {total.PercentileMicros(50),9:N1} {total.PercentileMicros(99),9:N1} {(double)allocated / total.Count,13:N0}");
}

int IntOption(string option, int fallback) => StringOption(option, null) is { } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : fallback;

string? StringOption(string option, string? fallback)
{
    var index = Array.IndexOf(args, option);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}
