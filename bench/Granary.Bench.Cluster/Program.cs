using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Granary.Clustering.PostgreSql;
using Granary.Grains.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

// Orleans call costs for Granary. One command each (Release; figures go to docs/benchmarks.md):
//   dotnet run -c Release --project bench/Granary.Bench.Cluster -- local [--seconds 5]
//       one in-process silo; calls through the host's IGrainFactory with 1 caller and 8 callers (own grain each)
//   dotnet run -c Release --project bench/Granary.Bench.Cluster -- cross [--seconds 10] [--loops 64]
//       three silo processes (tests/Granary.TestSilo: Granary.Silo plus the diagnostics grains) on PostgreSQL membership (needs GRANARY_TEST_POSTGRES:
//       eval "$(deploy/test-services.sh env)"); (1) client process -> silos, 64 loops over 3,000 ping grains;
//       (2) silo -> silo, 64 loops split over one driver grain per silo, each calling ping grains on the other silos
// Each row prints calls/s, p50 and p99 of one call's round trip.
var mode = args.FirstOrDefault() ?? "";
double Option(string name, double fallback) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } value ? double.Parse(value) : fallback;

switch (mode)
{
    case "local":
        await LocalAsync(TimeSpan.FromSeconds(Option("--seconds", 5)));
        return 0;
    case "cross":
        return await CrossProcessAsync(TimeSpan.FromSeconds(Option("--seconds", 10)), (int)Option("--loops", 64));
    default:
        Console.Error.WriteLine("usage: Granary.Bench.Cluster local [--seconds N] | cross [--seconds N] [--loops N]");
        return 2;
}

static async Task LocalAsync(TimeSpan duration)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.UseOrleans(silo => silo.UseLocalhostClustering(FreePort(), FreePort()).AddMemoryGrainStorageAsDefault());
    using var host = builder.Build();
    await host.StartAsync();
    var grains = host.Services.GetRequiredService<IGrainFactory>();

    foreach (var callers in new[] { 1, 8 })
    {
        var targets = Enumerable.Range(0, callers).Select(i => grains.GetGrain<IPingGrain>($"local-{callers}-{i}")).ToArray();
        foreach (var t in targets) await t.Touch(); // activate before timing
        await Loops(callers, TimeSpan.FromSeconds(1), i => targets[i].Touch()); // warm-up
        var figures = await Loops(callers, duration, i => targets[i].Touch());
        Console.WriteLine($"local call, host grain factory, {callers} caller(s):    {figures}");
    }
    await host.StopAsync();
}

static async Task<int> CrossProcessAsync(TimeSpan duration, int loops)
{
    var server = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES");
    if (string.IsNullOrEmpty(server))
    {
        Console.Error.WriteLine("GRANARY_TEST_POSTGRES is not set; run `eval \"$(deploy/test-services.sh start)\"` first.");
        return 2;
    }
    var database = "granary_bench_" + Guid.NewGuid().ToString("N")[..12];
    await ExecuteAsync(server, $"CREATE DATABASE {database}");
    var postgres = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
    var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
    var silos = new List<Process>();
    try
    {
        var siloDll = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "tests", "Granary.TestSilo", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "Granary.TestSilo.dll");
        for (var i = 0; i < 3; i++)
        {
            var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.GetFullPath(siloDll), "--port", $"{FreePort()}", "--gateway-port", $"{FreePort()}", "--http-port", $"{FreePort()}",
                         "--cluster-id", clusterId, "--name", $"bench-{i}", "--postgres", postgres, "Logging:LogLevel:Default=Warning" })
            {
                info.ArgumentList.Add(a);
            }
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            silos.Add(process);
        }
        var watch = Stopwatch.StartNew();
        while (await ActiveSilosAsync(postgres, clusterId) < 3)
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(90) || silos.Any(s => s.HasExited)) throw new TimeoutException("three silos did not become Active within 90 s");
            await Task.Delay(200);
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = clusterId; });
            c.UseGranaryPostgresClustering(postgres);
            // A driver's Drive call lasts the whole run.
            c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = duration + TimeSpan.FromMinutes(1));
        });
        using var client = builder.Build();
        await client.StartAsync();
        var grains = client.Services.GetRequiredService<IClusterClient>();

        var keys = Enumerable.Range(0, 3000).Select(i => $"cross-{i}").ToArray();
        var pings = keys.Select(k => grains.GetGrain<IPingGrain>(k)).ToArray();
        var owners = await Task.WhenAll(pings.Select(p => p.Ping()));
        Console.WriteLine($"3 silo processes, {pings.Length} ping grains spread over {owners.Distinct().Count()} silos");
        await Loops(loops, TimeSpan.FromSeconds(2), i => pings[Random.Shared.Next(pings.Length)].Touch()); // warm-up
        var clientFigures = await Loops(loops, duration, i => pings[Random.Shared.Next(pings.Length)].Touch());
        Console.WriteLine($"client process -> silo, {loops} loops:                 {clientFigures}");

        // One driver per silo: PreferLocalPlacement puts a driver on the gateway silo that first receives it.
        var drivers = new Dictionary<string, ILoadDriverGrain>();
        for (var i = 0; drivers.Count < 3 && i < 300; i++)
        {
            var driver = grains.GetGrain<ILoadDriverGrain>($"driver-{i}");
            drivers.TryAdd(await driver.Silo(), driver);
        }
        var perDriver = Enumerable.Range(0, drivers.Count).Select(d => loops / drivers.Count + (d < loops % drivers.Count ? 1 : 0)).ToArray();
        var results = await Task.WhenAll(drivers.Values.Select((d, n) => d.Drive(keys, perDriver[n], duration)));
        var calls = results.Sum(r => r.Calls);
        var seconds = results.Max(r => r.Seconds);
        Console.WriteLine($"silo -> silo, {loops} loops over {drivers.Count} driver silos:        " +
                          $"{calls / seconds,12:N0} calls/s   p50 {results.Average(r => r.P50Microseconds),8:N1} us   p99 {results.Max(r => r.P99Microseconds),9:N1} us   " +
                          $"(p50 averaged, p99 worst of the drivers; {calls:N0} calls in {seconds:0.0} s)");
        await client.StopAsync();
        return 0;
    }
    finally
    {
        foreach (var silo in silos)
        {
            if (!silo.HasExited) silo.Kill();
            silo.Dispose();
        }
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(server, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
    }
}

// Runs `loops` concurrent loops of `call` for `duration`, timing each call.
static async Task<LoadFigures> Loops(int loops, TimeSpan duration, Func<int, ValueTask> call)
{
    var latencies = Enumerable.Range(0, loops).Select(_ => new List<long>(1 << 16)).ToArray();
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, loops).Select(loop => Task.Run(async () =>
    {
        var mine = latencies[loop];
        while (watch.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            await call(loop);
            mine.Add(Stopwatch.GetTimestamp() - start);
        }
    })));
    return LoadFigures.Summarize(latencies, watch.Elapsed.TotalSeconds, 0);
}

static async Task<long> ActiveSilosAsync(string postgres, string clusterId)
{
    try
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM granary_membership WHERE cluster_id = @c AND status = 3", connection);
        command.Parameters.AddWithValue("c", clusterId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
    {
        return 0; // the silos have not applied the schema yet
    }
}

static async Task ExecuteAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync();
}

static int FreePort()
{
    var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}
