// Gateway load benchmark. Usage (from the repository root):
//   dotnet run -c Release --project bench/Granary.Bench.Gateway -- [run] [--seconds 5] [--rate 1000] [--wide-rate 100] [--loops 1,4,16,64]
//       [--entities 10000] [--redis host:port] [--scenarios narrow,wide] [--paths grpc,rest,redis] [--warmup 10] [--grpc-window-kb 64] [--grpc-channels 1]
//       [--deadline-ms 10000] [--online-read Grouped|PerEntity] [--pii none|mask|hash]
// --pii tags every feature of the bench view pii in that mode: reads through the secured gateway (grpc-apikey, grpc-jwt;
// the bench role has no READ_UNMASKED) are then masked, to measure masking's cost against --pii none.
// --paths also takes grpc-apikey and grpc-jwt: the same gRPC reads through a second gateway of the same server process
// with authorization on (an API key; an HS256 JWT), to compare with authorization off (grpc) in one run.
// (--scenarios and --paths pick a subset, e.g. one path to profile the server child with dotnet-trace; the gateway/Redis
// ratios print only when the Redis path ran.)
// It starts a redis-server of its own on a free loopback port (unless --redis), then itself as a CHILD process in
// `server` mode (embedded silo on a Redis online store + the gateway on free ports), so the load generator and the
// server never share a process. Scenarios: 1 entity x 5 features and 100 entities x 50 features, each over gRPC
// (feast.serving.ServingService/GetOnlineFeatures), REST (POST /get-online-features) and a baseline reading the same
// entity hashes straight from Redis (StackExchange.Redis HMGET, pipelined per request). Each runs open-loop at a fixed
// rate (--rate for 1 x 5, --wide-rate for 100 x 50) (latency from the scheduled send time, so a stall counts against every request it delays) and closed-loop at
// increasing concurrency; prints p50/p99/p99.9 and req/s, and the gateway/Redis ratio.
//
//   ... -- once --grpc http://127.0.0.1:6570 --features view:f1,view:f2 --entity driver_id=1001 [--entity ...]
// One GetOnlineFeatures call over gRPC, printed as a table (deploy/demo.sh uses it; no grpcurl needed); sends the API key
// in GRANARY_API_KEY (or the JWT in GRANARY_TOKEN) when set.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Feast.Serving;
using Feast.Types;
using Granary.Bench.Gateway;
using Grpc.Net.Client;

var mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "run";
var rest = mode == "run" && (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal)) ? args : args.Skip(1).ToArray();
var options = Options.Parse(rest);
try
{
    return mode switch
    {
        "run" => await LoadRun.RunAsync(options),
        "server" => await BenchServer.RunAsync(options),
        "once" => await OnceClient.RunAsync(options),
        _ => Usage($"unknown mode '{mode}'"),
    };
}
catch (ArgumentException e)
{
    return Usage(e.Message);
}

static int Usage(string why)
{
    Console.Error.WriteLine($"Granary.Bench.Gateway: {why}; modes: run (default), server, once; see the top of Program.cs");
    return 2;
}

namespace Granary.Bench.Gateway
{
    /// <summary>--name value pairs; --entity may repeat.</summary>
    internal sealed class Options(List<KeyValuePair<string, string>> pairs)
    {
        public static Options Parse(string[] args)
        {
            var pairs = new List<KeyValuePair<string, string>>();
            for (var i = 0; i < args.Length; i += 2)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                    throw new ArgumentException($"expected '--option value', got '{args[i]}'");
                pairs.Add(new(args[i][2..], args[i + 1]));
            }
            return new Options(pairs);
        }

        public string? Get(string name) => pairs.LastOrDefault(p => p.Key == name).Value;
        public IEnumerable<string> All(string name) => pairs.Where(p => p.Key == name).Select(p => p.Value);
        public int Int(string name, int fallback) => Get(name) is { } v
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--{name} '{v}' is not a positive integer")
            : fallback;
    }

    /// <summary>The shape both processes agree on: one view, 50 features (Float64 at even, Int64 at odd positions).</summary>
    internal static class Shape
    {
        public const string View = "driver_stats";
        public const int WideFeatures = 50;
        public static string Feature(int f) => $"f{f}";

        public static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
            finally { listener.Stop(); }
        }

        public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
    }

    /// <summary>The demo's gRPC client: one GetOnlineFeatures call, printed column by column.</summary>
    internal static class OnceClient
    {
        public static async Task<int> RunAsync(Options options)
        {
            var url = options.Get("grpc") ?? throw new ArgumentException("--grpc URL is required (the address `granary serve` printed for gRPC)");
            var features = (options.Get("features") ?? throw new ArgumentException("--features view:feature,... is required")).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var request = new GetOnlineFeaturesRequest { Features = new FeatureList() };
            request.Features.Val.AddRange(features);
            foreach (var entity in options.All("entity"))
            {
                var eq = entity.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw new ArgumentException($"--entity '{entity}' is not key=value");
                var (key, text) = (entity[..eq], entity[(eq + 1)..]);
                // Integers go as int64_val (Feast's Int64 join keys); anything else as text.
                var value = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? new Value { Int64Val = n } : new Value { StringVal = text };
                if (!request.Entities.TryGetValue(key, out var column)) request.Entities[key] = column = new RepeatedValue();
                column.Val.Add(value);
            }
            if (request.Entities.Count == 0) throw new ArgumentException("give at least one --entity key=value");
            using var channel = GrpcChannel.ForAddress(url);
            var client = new ServingService.ServingServiceClient(channel);
            // Credentials from the environment, as the CLI and the SDK take them (never a command-line argument).
            var token = Environment.GetEnvironmentVariable("GRANARY_API_KEY") is { Length: > 0 } apiKey ? apiKey : Environment.GetEnvironmentVariable("GRANARY_TOKEN");
            var headers = string.IsNullOrEmpty(token) ? null : new Grpc.Core.Metadata { { "authorization", "Bearer " + token } };
            var response = await client.GetOnlineFeaturesAsync(request, headers, deadline: DateTime.UtcNow.AddSeconds(10));
            var names = response.Metadata.FeatureNames.Val;
            Console.WriteLine($"gRPC feast.serving.ServingService/GetOnlineFeatures at {url}:");
            for (var j = 0; j < names.Count; j++)
            {
                var vector = response.Results[j];
                var cells = vector.Values.Select((v, i) => $"{Show(v)} ({vector.Statuses[i]})");
                Console.WriteLine($"  {names[j],-28} {string.Join("  ", cells)}");
            }
            return 0;
        }

        private static string Show(Value v) => v.ValCase switch
        {
            Value.ValOneofCase.None => "null",
            Value.ValOneofCase.DoubleVal => v.DoubleVal.ToString("G6", CultureInfo.InvariantCulture),
            Value.ValOneofCase.FloatVal => v.FloatVal.ToString("G6", CultureInfo.InvariantCulture),
            Value.ValOneofCase.Int64Val => v.Int64Val.ToString(CultureInfo.InvariantCulture),
            Value.ValOneofCase.Int32Val => v.Int32Val.ToString(CultureInfo.InvariantCulture),
            Value.ValOneofCase.StringVal => v.StringVal,
            Value.ValOneofCase.BoolVal => v.BoolVal ? "true" : "false",
            _ => v.ToString(),
        };
    }
}
