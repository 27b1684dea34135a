using System.Diagnostics;
using Granary.Bench.Cluster;
using Granary.Clustering.PostgreSql;
using Granary.Runtime;
using Granary.Runtime.Cluster;
using Granary.Runtime.Cluster.Client;
using Granary.Runtime.Cluster.Hosting;
using Granary.Runtime.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage:
//   dotnet run -c Release --project bench/Granary.Bench.Cluster [-- --seconds 10 --concurrency 64]
// Needs GRANARY_TEST_POSTGRES (eval "$(deploy/test-services.sh env)"). Starts three silo processes (this program
// with --silo) on 127.0.0.1 and measures, from a client process, (1) client-to-silo calls and (2) silo-to-silo calls
// driven by one grain per silo calling grains owned by the other two silos.
var postgres = Environment.GetEnvironmentVariable("GRANARY_TEST_POSTGRES");
if (string.IsNullOrEmpty(postgres))
{
    Console.Error.WriteLine("GRANARY_TEST_POSTGRES is not set; run `eval \"$(deploy/test-services.sh start)\"` (deploy/test-services.sh start) first.");
    return 2;
}
string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;

if (args.Contains("--silo"))
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.UseGranary(silo =>
    {
        silo.AddGrain<EchoGrain>().AddGrain<DriverGrain>().AddMemoryGrainStorageAsDefault();
        silo.UseCluster(o =>
        {
            o.ClusterId = Arg("--cluster-id", "bench");
            o.SiloPort = int.Parse(Arg("--port", "0"), System.Globalization.CultureInfo.InvariantCulture);
        });
        silo.UsePostgreSqlClustering(postgres);
    });
    await builder.Build().RunAsync();
    return 0;
}

var seconds = int.Parse(Arg("--seconds", "10"), System.Globalization.CultureInfo.InvariantCulture);
var concurrency = int.Parse(Arg("--concurrency", "64"), System.Globalization.CultureInfo.InvariantCulture);
var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
var self = Environment.ProcessPath!;
var entry = typeof(EchoGrain).Assembly.Location;
var silos = new List<Process>();
try
{
    for (var i = 0; i < 3; i++)
    {
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(entry);
        foreach (var a in new[] { "--silo", "--cluster-id", clusterId, "--port", (21111 + i).ToString(System.Globalization.CultureInfo.InvariantCulture) }) start.ArgumentList.Add(a);
        silos.Add(Process.Start(start)!);
    }
    var table = PostgreSqlClusteringExtensions.CreateMembershipTable(postgres, clusterId);
    var options = new ClusterOptions { ClusterId = clusterId };
    await using var client = await ClusterClient.ConnectAsync(table, options, silo => silo.AddGrain<EchoGrain>().AddGrain<DriverGrain>());
    var wait = Stopwatch.StartNew();
    while (client.View.ActiveSilos.Count < 3)
    {
        if (wait.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("The three silo processes did not become Active within 60 s.");
        await Task.Delay(200);
        await client.RefreshAsync(CancellationToken.None);
    }
    Console.WriteLine($"3 silo processes Active ({string.Join(", ", client.View.ActiveSilos)}); {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

    // Warm up both paths (JIT, connections).
    var echoes = Enumerable.Range(0, 3000).Select(k => client.GrainFactory.GetGrain<IEchoGrain>(k)).ToArray();
    await Load.RunAsync(echoes, concurrency, TimeSpan.FromSeconds(2));

    var clientRun = await Load.RunAsync(echoes, concurrency, TimeSpan.FromSeconds(seconds));
    var (c50, c99) = Load.Percentiles(clientRun.LatencyMicros);
    Console.WriteLine($"client -> silo (1 client process, {concurrency} loops): {clientRun.Calls / clientRun.Seconds:N0} calls/s, p50 {c50} us, p99 {c99} us");

    // One driver per silo: pick keys the ring places on each silo.
    var driverType = typeof(DriverGrain).FullName!;
    var driverKeys = client.View.ActiveSilos
        .Select(s => Enumerable.Range(0, 10_000).Select(i => "driver-" + i).First(k => client.View.Ring.OwnerOf(new GrainId(driverType, k)) == s))
        .ToList();
    await Task.WhenAll(driverKeys.Select(k => client.GrainFactory.GetGrain<IDriverGrain>(k).Run(concurrency / 3, 2000)));
    var runs = await Task.WhenAll(driverKeys.Select(k => client.GrainFactory.GetGrain<IDriverGrain>(k).Run(concurrency / 3, seconds * 1000)));
    var total = runs.Sum(r => r.Calls / r.Seconds);
    var (s50, s99) = Load.Percentiles(runs.SelectMany(r => r.LatencyMicros));
    Console.WriteLine($"silo -> silo (3 silo processes, {concurrency / 3} loops each): {total:N0} calls/s, p50 {s50} us, p99 {s99} us");
    return 0;
}
finally
{
    foreach (var silo in silos)
    {
        try { silo.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }
}
