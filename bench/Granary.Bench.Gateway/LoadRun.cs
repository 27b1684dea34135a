using Grpc.Core.Interceptors;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Feast.Serving;
using Feast.Types;
using Granary.Gateway;
using Granary.Online;
using Grpc.Core;
using Grpc.Net.Client;
using StackExchange.Redis;

namespace Granary.Bench.Gateway;

/// <summary>The load generator: its own Redis, the server as a child process, every scenario, the ratios.</summary>
internal static class LoadRun
{
    private sealed record Scenario(string Name, int Entities, int Features, int Rate);

    private sealed record Result(double Rate, double P50, double P99, double P999, long Errors, long PastDeadline, string? FirstError);

    public static async Task<int> RunAsync(Options options)
    {
        var seconds = options.Int("seconds", 5);
        var rate = options.Int("rate", 1_000);
        // 100 x 50 is 5,000 values a request: its fixed rate is its own, well under what one request at a time sustains.
        var wideRate = options.Int("wide-rate", 100);
        var entities = options.Int("entities", 10_000);
        // Per path, before its first measurement. 3 s was too short: on a busy machine the server was still running
        // Google.Protobuf's and the gRPC stack's first-tier (unoptimized) code and jitting (18 % of its CPU) while timed,
        // which REST, on the framework's precompiled System.Text.Json, did not pay.
        var warmup = options.Int("warmup", 10);
        var loops = (options.Get("loops") ?? "1,4,16,64").Split(',').Select(l => int.TryParse(l, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--loops '{l}' is not a positive integer")).ToArray();
        // --scenarios narrow,wide and --paths grpc,rest,redis pick a subset (e.g. to profile one path); default all.
        var scenarioFilter = (options.Get("scenarios") ?? "narrow,wide").Split(',', StringSplitOptions.TrimEntries);
        var pathFilter = (options.Get("paths") ?? "grpc,rest,redis").Split(',', StringSplitOptions.TrimEntries);
        // Every gRPC and REST call carries this deadline; a call past it is an error (counted apart), never waited out.
        var deadline = TimeSpan.FromMilliseconds(options.Int("deadline-ms", 10_000));
        // --online-read Grouped (default) or PerEntity: how the server's gateway reaches the entity grains (Granary:Gateway:OnlineRead).
        var onlineRead = Enum.TryParse<OnlineReadDesign>(options.Get("online-read") ?? nameof(OnlineReadDesign.Grouped), ignoreCase: true, out var design) && Enum.IsDefined(design)
            ? design : throw new ArgumentException($"--online-read '{options.Get("online-read")}' is neither Grouped nor PerEntity");
        // --pii none (default), mask or hash: the view is tagged pii in that mode, so the secured gateway's reads
        // (grpc-apikey, grpc-jwt: the bench role has no READ_UNMASKED) are masked; the open gateway's stay clear.
        var pii = options.Get("pii") ?? "none";
        if (pii is not ("none" or "mask" or "hash")) throw new ArgumentException($"--pii '{pii}' is none, mask or hash");
        await using var redis = await OwnRedis.StartAsync(options.Get("redis"));
        var root = Directory.CreateTempSubdirectory("granary-bench-gateway-").FullName;
        var project = "gwbench" + Guid.NewGuid().ToString("N")[..6];
        Console.WriteLine($"Granary gateway benchmark, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {Shape.LoadAverage()}");
        Console.WriteLine($"Redis {redis.Endpoint}{(redis.Own ? " (own server)" : "")}; {entities:N0} entities x {Shape.WideFeatures} features; {seconds} s per measurement after a {warmup} s warm-up per path");

        Console.WriteLine($"online read: {onlineRead}; features tagged pii: {pii}");
        using var server = StartServer(redis.Endpoint, root, project, entities, onlineRead, pii);
        try
        {
            var ready = await ReadReadyAsync(server);
            var (restUrl, grpcUrl) = (ready[1], ready[2]);
            Console.WriteLine($"server: child process {server.Id}, REST {restUrl}, gRPC {grpcUrl}");
            // The child's log is its stdout: copied here for the whole run. Left unread, the pipe fills at 64 KiB, then the
            // child's console logger blocks whichever thread logs next (a Kestrel connection's writer loop, say), and its
            // lines, the ones that would say what went wrong, are never seen.
            _ = Task.Run(async () =>
            {
                while (await server.StandardOutput.ReadLineAsync() is { } line) Console.WriteLine($"server: {line}");
            });

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
            {
                BaseAddress = new Uri(restUrl), Timeout = deadline,
            };
            // --grpc-channels N (default 1): N channels, each its own HTTP/2 connection, calls spread round-robin, as REST's
            // HttpClient spreads concurrent requests over HTTP/1.1 connections. One channel multiplexes every call over one
            // TCP connection and one frame loop at each end. --grpc-window-kb sets the client's initial stream window;
            // .NET's 64 KB default stays: 1 MB did not help 100 x 50 answers (~150 KB) here (docs/benchmarks.md).
            var windowKb = options.Int("grpc-window-kb", 64);
            var channelCount = options.Int("grpc-channels", 1);
            if (channelCount < 1) throw new ArgumentException($"--grpc-channels {channelCount}: give 1 or more");
            var channels = Enumerable.Range(0, channelCount).Select(_ => GrpcChannel.ForAddress(grpcUrl, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, InitialHttp2StreamWindowSize = windowKb * 1024 },
            })).ToArray();
            using var disposeChannels = new ChannelSet(channels);
            var clients = channels.Select(c => new ServingService.ServingServiceClient(c)).ToArray();
            var nextClient = 0;
            ServingService.ServingServiceClient Grpc() => clients[(int)((uint)Interlocked.Increment(ref nextClient) % (uint)clients.Length)];
            // The secured gateway (authorization on) of the same process: API key and JWT paths (--paths grpc-apikey,grpc-jwt).
            using var securedChannel = GrpcChannel.ForAddress(ready[5], new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, InitialHttp2StreamWindowSize = windowKb * 1024 },
            });
            var withKey = Secured(securedChannel, ready[6]);
            var withJwt = Secured(securedChannel, Jwt());
            Console.WriteLine($"gRPC client: {channelCount} channel(s), HTTP/2 stream window {windowKb} KB; every client decodes its answer (protobuf, JSON, row codec); " +
                              $"every gRPC and REST call has a {deadline.TotalMilliseconds:N0} ms deadline");
            await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
            var db = mux.GetDatabase();
            RedisValue[] field = ["v:" + Shape.View]; // the store keeps one field per view in the entity's hash
            var entityKeys = new EntityKey[entities + 1];
            var redisKeys = new RedisKey[entities + 1];
            for (var d = 1; d <= entities; d++)
            {
                entityKeys[d] = EntityKey.Create(project, "driver_id", d.ToString(CultureInfo.InvariantCulture));
                redisKeys[d] = "{" + entityKeys[d].Canonical + "}";
            }

            int[] Pick(int count) { var ids = new int[count]; for (var i = 0; i < count; i++) ids[i] = Random.Shared.Next(1, entities + 1); return ids; }

            // Activate every entity grain first, so every scenario reads hot grains (the steady state of a feature server).
            foreach (var chunk in Enumerable.Range(1, entities).Chunk(100)) await RestAsync(http, chunk, 1, check: false);

            Console.WriteLine();
            // CPU us per request (server child / this load generator, from /proc): far steadier than latency on a busy machine.
            Console.WriteLine("scenario | path | load | req/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU us/req | client CPU us/req");
            Console.WriteLine("---|---|---|---:|---:|---:|---:|---:|---:|---:");
            var scenarios = new[] { new Scenario("1 entity x 5 features", 1, 5, rate), new Scenario($"100 entities x {Shape.WideFeatures} features", 100, Shape.WideFeatures, wideRate) }
                .Where(s => scenarioFilter.Contains(s.Entities == 1 ? "narrow" : "wide")).ToArray();
            var summary = new List<string>();
            foreach (var s in scenarios)
            {
                var paths = new (string Name, string Key, Func<Task> Call)[]
                {
                    ("gRPC", "grpc", () => GrpcAsync(Grpc(), Pick(s.Entities), s.Features, deadline, check: false)),
                    ("gRPC API key", "grpc-apikey", () => GrpcAsync(withKey, Pick(s.Entities), s.Features, deadline, check: false)),
                    ("gRPC JWT", "grpc-jwt", () => GrpcAsync(withJwt, Pick(s.Entities), s.Features, deadline, check: false)),
                    ("REST", "rest", () => RestAsync(http, Pick(s.Entities), s.Features, check: false)),
                    ("Redis HMGET", "redis", () => RedisAsync(db, Pick(s.Entities), entityKeys, redisKeys, field)),
                };
                // One checked call each: every value PRESENT, so the timed calls read real data.
                await GrpcAsync(Grpc(), Pick(s.Entities), s.Features, deadline, check: true);
                await GrpcAsync(withKey, Pick(s.Entities), s.Features, deadline, check: true);
                await GrpcAsync(withJwt, Pick(s.Entities), s.Features, deadline, check: true);
                await RestAsync(http, Pick(s.Entities), s.Features, check: true);
                var results = new Dictionary<string, (Result Fixed, Result Best, int BestLoops)>();
                foreach (var (name, key, call) in paths)
                {
                    if (!pathFilter.Contains(key)) continue;
                    await ClosedAsync(call, 16, warmup); // warm-up: connections, tiered JIT on both sides, thread pool growth
                    var cpu = CpuTime.Start(server);
                    var fixedRate = await OpenAsync(call, s.Rate, seconds);
                    Print(s.Name, name, $"open {s.Rate:N0}/s", fixedRate, cpu.PerRequest(fixedRate, seconds));
                    (Result Result, int Loops) best = (new Result(0, 0, 0, 0, 0, 0, null), 0);
                    foreach (var l in loops)
                    {
                        cpu = CpuTime.Start(server);
                        var r = await ClosedAsync(call, l, seconds);
                        Print(s.Name, name, $"closed {l} loops", r, cpu.PerRequest(r, seconds));
                        if (r.Rate > best.Result.Rate) best = (r, l);
                    }
                    results[name] = (fixedRate, best.Result, best.Loops);
                }
                if (!results.TryGetValue("Redis HMGET", out var baseline)) continue;
                foreach (var name in new[] { "gRPC", "REST" })
                {
                    if (!results.TryGetValue(name, out var g)) continue;
                    summary.Add($"{s.Name} | {name} | {s.Rate:N0}/s | {g.Fixed.P50 / baseline.Fixed.P50:F1}x | {g.Fixed.P99 / baseline.Fixed.P99:F1}x | " +
                                $"{g.Best.Rate:N0} ({g.BestLoops} loops) vs {baseline.Best.Rate:N0} ({baseline.BestLoops}) = {g.Best.Rate / baseline.Best.Rate:P0}");
                }
            }
            Console.WriteLine();
            Console.WriteLine("gateway vs Redis baseline | path | fixed rate | p50 ratio | p99 ratio | highest req/s (gateway vs Redis)");
            Console.WriteLine("---|---|---:|---:|---:|---");
            foreach (var line in summary) Console.WriteLine(line);
            Console.WriteLine($"load average at the end {Shape.LoadAverage()}");
            return 0;
        }
        finally
        {
            try { server.StandardInput.Close(); } catch (IOException) { }
            if (!server.WaitForExit(10_000)) server.Kill(entireProcessTree: true);
            Directory.Delete(root, recursive: true);
        }
    }

    private static readonly string JwtSecret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    // A token as an identity provider would issue it: signed HS256, an hour to live, the bench role in "roles".
    private static string Jwt() => new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
    {
        Issuer = BenchServer.JwtIssuer,
        Audience = BenchServer.JwtAudience,
        Expires = DateTime.UtcNow.AddHours(1),
        Claims = new Dictionary<string, object> { ["sub"] = "bench", ["roles"] = new[] { BenchServer.BenchRole } },
        SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
            new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(JwtSecret)), Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
    });

    // The secured gateway's client: the same channel settings, every call carrying the bearer token.
    private static ServingService.ServingServiceClient Secured(GrpcChannel channel, string token)
        => new(channel.Intercept(metadata => { metadata.Add("authorization", "Bearer " + token); return metadata; }));

    private static Process StartServer(string redis, string root, string project, int entities, OnlineReadDesign onlineRead, string pii)
    {
        // The same executable in server mode: the apphost directly, or `dotnet Granary.Bench.Gateway.dll`.
        var self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.Environment[BenchServer.JwtSecretVariable] = JwtSecret;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(LoadRun).Assembly.Location);
        foreach (var a in new[] { "server", "--redis", redis, "--root", root, "--project", project, "--entities", entities.ToString(CultureInfo.InvariantCulture), "--online-read", onlineRead.ToString(), "--pii", pii })
            info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {self} server");
    }

    private static async Task<string[]> ReadReadyAsync(Process server)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (await server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("READY ", StringComparison.Ordinal)) return line.Split(' ');
            Console.WriteLine($"server: {line}");
        }
        throw new InvalidOperationException($"the server process exited ({(server.HasExited ? server.ExitCode.ToString(CultureInfo.InvariantCulture) : "?")}) before it was ready");
    }

    private static async Task GrpcAsync(ServingService.ServingServiceClient client, int[] drivers, int features, TimeSpan deadline, bool check)
    {
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList() };
        for (var f = 0; f < features; f++) request.Features.Val.Add($"{Shape.View}:{Shape.Feature(f)}");
        var keys = new RepeatedValue();
        foreach (var d in drivers) keys.Val.Add(new Value { Int64Val = d });
        request.Entities["driver_id"] = keys;
        var response = await client.GetOnlineFeaturesAsync(request, deadline: DateTime.UtcNow + deadline);
        if (check && response.Results.Skip(1).SelectMany(r => r.Statuses).Any(s => s != FieldStatus.Present))
            throw new InvalidOperationException("gRPC: a value that should be PRESENT is not");
    }

    private static async Task RestAsync(HttpClient http, int[] drivers, int features, bool check)
    {
        var body = new StringBuilder("{\"features\":[");
        for (var f = 0; f < features; f++) body.Append(f == 0 ? "" : ",").Append('"').Append(Shape.View).Append(':').Append(Shape.Feature(f)).Append('"');
        body.Append("],\"entities\":{\"driver_id\":[").AppendJoin(',', drivers).Append("]}}");
        using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/get-online-features", content);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"REST {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        // Parsed, as a client must before it can use a value (the gRPC path's protobuf parse does the same).
        using var parsed = System.Text.Json.JsonDocument.Parse(bytes);
        if (!check) return;
        var text = Encoding.UTF8.GetString(bytes);
        if ((text.Contains("NOT_FOUND", StringComparison.Ordinal) || !text.Contains("PRESENT", StringComparison.Ordinal)))
            throw new InvalidOperationException($"REST: a value that should be PRESENT is not: {text[..Math.Min(300, text.Length)]}");
    }

    /// <summary>The baseline: each entity's row read straight from Redis and decoded with the store's row codec into values.</summary>
    private static async Task RedisAsync(IDatabase db, int[] drivers, EntityKey[] entityKeys, RedisKey[] redisKeys, RedisValue[] field)
    {
        if (drivers.Length == 1)
        {
            Decode(entityKeys[drivers[0]], (await db.HashGetAsync(redisKeys[drivers[0]], field))[0]);
            return;
        }
        var batch = db.CreateBatch();
        var reads = new Task<RedisValue[]>[drivers.Length];
        for (var i = 0; i < drivers.Length; i++) reads[i] = batch.HashGetAsync(redisKeys[drivers[i]], field);
        batch.Execute();
        for (var i = 0; i < drivers.Length; i++) Decode(entityKeys[drivers[i]], (await reads[i])[0]);

        static void Decode(EntityKey entity, RedisValue value)
        {
            if (value.IsNull) throw new InvalidOperationException($"Redis: no row for {entity}");
            OnlineRowCodec.Decode(entity, Shape.View, (byte[])value!);
        }
    }

    /// <summary>
    /// Open loop: request i is due at start + i/rate whether or not earlier ones answered; its latency runs from that due
    /// time, so the generator never hides a server stall (no coordinated omission). The dispatcher is a dedicated thread
    /// that sleeps while the next send is over a millisecond away and naps in 50 us steps below that (usleep): it used to
    /// spin on Thread.Yield there, which at 1,000/s (a send every 1 ms) kept one of the machine's two cores busy for
    /// nothing and inflated every path's tail, the Redis baseline's included. A nap's overshoot counts against the path.
    /// </summary>
    private static async Task<Result> OpenAsync(Func<Task> call, int rate, int seconds)
    {
        var total = rate * seconds;
        var latencies = new double[total];
        var sends = new Task[total];
        long errors = 0, pastDeadline = 0;
        string? firstError = null;
        var ticksPerRequest = Stopwatch.Frequency / (double)rate;
        var start = Stopwatch.GetTimestamp();
        var dispatcher = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                var due = start + (long)(i * ticksPerRequest);
                while (Stopwatch.GetTimestamp() is var now && now < due)
                {
                    if ((due - now) * 1000.0 / Stopwatch.Frequency > 1.2) Thread.Sleep(1);
                    else Nap();
                }
                var index = i;
                sends[i] = Send(index, due);
            }
        }) { IsBackground = true, Name = "open-loop dispatcher" };

        async Task Send(int index, long due)
        {
            try { await call(); }
            catch (Exception e) { Count(e, ref errors, ref pastDeadline, ref firstError); }
            latencies[index] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
        }

        dispatcher.Start();
        await Task.Run(dispatcher.Join);
        await Task.WhenAll(sends);
        var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return Summarize(latencies, total / wall, errors, pastDeadline, firstError);
    }

    // Thread.Sleep cannot sleep under a millisecond; usleep can (Linux wakes within tens of microseconds). Elsewhere: yield.
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "usleep")]
    private static extern int USleep(uint microseconds);

    private static void Nap()
    {
        if (OperatingSystem.IsLinux()) USleep(50);
        else Thread.Yield();
    }

    /// <summary>Closed loops: each loop sends its next request when the previous one answered.</summary>
    private static async Task<Result> ClosedAsync(Func<Task> call, int loops, int seconds)
    {
        var perLoop = new List<double>[loops];
        long errors = 0, pastDeadline = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, loops).Select(l => Task.Run(async () =>
        {
            var mine = perLoop[l] = new List<double>(200_000);
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                var t = Stopwatch.GetTimestamp();
                try { await call(); }
                catch (Exception e) { Count(e, ref errors, ref pastDeadline, ref firstError); }
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        })));
        var all = perLoop.SelectMany(l => l).ToArray();
        return Summarize(all, all.Length / clock.Elapsed.TotalSeconds, errors, pastDeadline, firstError);
    }

    // An error, and a call past its deadline (gRPC DEADLINE_EXCEEDED, or HttpClient's timeout) counted apart too.
    private static void Count(Exception e, ref long errors, ref long pastDeadline, ref string? firstError)
    {
        Interlocked.Increment(ref errors);
        if (e is RpcException { StatusCode: StatusCode.DeadlineExceeded } or TaskCanceledException { InnerException: TimeoutException }) Interlocked.Increment(ref pastDeadline);
        Interlocked.CompareExchange(ref firstError, Describe(e), null);
    }

    // What failed, so an error count in the table can be told apart (a deadline, a refused stream, a 503).
    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.Split('\n', 2)[0]}";

    private static Result Summarize(double[] latencies, double rate, long errors, long pastDeadline, string? firstError)
    {
        Array.Sort(latencies);
        double At(double q) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)(latencies.Length * q))];
        return new Result(rate, At(0.50), At(0.99), At(0.999), errors, pastDeadline, firstError);
    }

    private static void Print(string scenario, string path, string load, Result r, (double Server, double Client) cpu)
    {
        Console.WriteLine($"{scenario} | {path} | {load} | {r.Rate:N0} | {r.P50:F3} | {r.P99:F3} | {r.P999:F3} | {r.Errors} | {cpu.Server:F0} | {cpu.Client:F0}");
        if (r.FirstError is { } first) Console.WriteLine($"  first error of {r.Errors} ({r.PastDeadline} past their deadline): {first}");
    }

    /// <summary>User + system CPU time of the server child and of this process over one measurement (Linux /proc; NaN elsewhere).</summary>
    private readonly record struct CpuTime(Process Server, TimeSpan ServerStart, TimeSpan ClientStart)
    {
        public static CpuTime Start(Process server) => new(server, Of(server), Of(Process.GetCurrentProcess()));

        /// <summary>Microseconds of CPU per request, each side; the Redis path's server figure is the idle gateway's.</summary>
        public (double Server, double Client) PerRequest(Result r, int seconds)
        {
            var requests = r.Rate * seconds;
            if (requests <= 0) return (double.NaN, double.NaN);
            return ((Of(Server) - ServerStart).TotalMicroseconds / requests, (Of(Process.GetCurrentProcess()) - ClientStart).TotalMicroseconds / requests);
        }

        private static TimeSpan Of(Process p)
        {
            p.Refresh();
            return p.TotalProcessorTime;
        }
    }

    /// <summary>A redis-server of the run's own on a free loopback port, no persistence; or the one given.</summary>
    private sealed class OwnRedis : IAsyncDisposable
    {
        private Process? _process;
        private string? _dir;

        public required string Endpoint { get; init; }
        public bool Own => _process is not null;

        public static async Task<OwnRedis> StartAsync(string? given)
        {
            if (given is not null) return new OwnRedis { Endpoint = given };
            var port = Shape.FreePort();
            var dir = Directory.CreateTempSubdirectory("granary-bench-gw-redis-").FullName;
            var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, WorkingDirectory = dir, UseShellExecute = false };
            foreach (var a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir })
                info.ArgumentList.Add(a);
            var redis = new OwnRedis { Endpoint = $"127.0.0.1:{port}", _process = Process.Start(info), _dir = dir };
            redis._process!.OutputDataReceived += static (_, _) => { }; // drain its log
            redis._process.BeginOutputReadLine();
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await using var probe = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint + ",connectTimeout=500");
                    await probe.GetDatabase().PingAsync();
                    return redis;
                }
                catch (RedisConnectionException) when (attempt < 40) { await Task.Delay(100); }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_process is null) return;
            _process.Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
            Directory.Delete(_dir!, recursive: true);
        }
    }
}

/// <summary>Disposes every gRPC channel of the run.</summary>
internal sealed class ChannelSet(GrpcChannel[] channels) : IDisposable
{
    public void Dispose()
    {
        foreach (var channel in channels) channel.Dispose();
    }
}
