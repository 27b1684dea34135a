using System.Text.Json;
using Feast.Types;
using Granary.Definitions;
using Granary.Gateway.Rest;
using Granary.Gateway.V1;
using Granary.Grains.Push;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PushRequest = Granary.Grains.Push.PushRequest;

// Everything of the gateway that needs the push grain (grains/Granary.Grains.Interfaces/Push): REST /push and
// /write-to-online-store, gRPC Granary/Push. The project file leaves this folder out while that interface is absent.

namespace Granary.Gateway
{
    public static partial class GatewayEndpoints
    {
        static partial void MapPush(IEndpointRouteBuilder app)
        {
            app.MapPost("/push", Guard(PushAsync));
            app.MapPost("/write-to-online-store", Guard(WriteToOnlineStoreAsync));
        }

        // Feast: {"push_source_name", "df": {col: [..]}, "to": "online" | "offline" | "online_and_offline"}; 200 with no body.
        private static async Task PushAsync(HttpContext context)
        {
            using var body = await FeastRestEndpoints.ReadBodyAsync(context);
            var root = body.RootElement;
            var source = FeastRestEndpoints.RequiredString(root, "push_source_name");
            var toText = FeastRestEndpoints.OptionalString(root, "to") ?? "online";
            if (!PushModes.TryParse(toText, out var to))
                throw new GatewayRequestException($"'to' '{toText}' is not a push mode", "send \"to\": \"online\", \"offline\" or \"online_and_offline\"");
            await Pushes.PushAsync(context.RequestServices, source, JsonTable(FeastRestEndpoints.Required(root, "df")), to);
            context.Response.StatusCode = StatusCodes.Status200OK;
        }

        // Feast (deprecated there): {"feature_view_name", "df"}; 200 with null. Written through the view's push source, online only.
        private static async Task WriteToOnlineStoreAsync(HttpContext context)
        {
            using var body = await FeastRestEndpoints.ReadBodyAsync(context);
            var root = body.RootElement;
            var viewName = FeastRestEndpoints.RequiredString(root, "feature_view_name");
            var snapshot = await context.RequestServices.GetRequiredService<OnlineFeatureQueries>().SnapshotAsync();
            var view = snapshot.FeatureViews.FirstOrDefault(v => v.Name == viewName)
                ?? throw new GatewayNotFoundException($"'feature_view_name' '{viewName}' is not a feature view of project '{snapshot.Project}'; known: {OnlineFeatureQueries.Known(snapshot.FeatureViews.Select(v => v.Name))}");
            if (snapshot.DataSources.FirstOrDefault(d => d.Name == view.Source) is not PushSource)
                throw new GatewayRequestException($"feature view '{viewName}' reads '{view.Source}', which is not a push source; the gateway writes online rows through push sources only",
                    "give the view a push source, or materialize it from its batch source");
            await Pushes.PushAsync(context.RequestServices, view.Source, JsonTable(FeastRestEndpoints.Required(root, "df")), PushMode.Online);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("null");
        }

        // Column-major JSON as raw values: the push grain types them by the schema (text parsed, typed values only when exact).
        private static (string[] Columns, object?[][] Rows) JsonTable(JsonElement df)
        {
            if (df.ValueKind != JsonValueKind.Object)
                throw new GatewayRequestException($"'df' is {JsonEntityValues.Describe(df)}, not an object of columns", "send \"df\": {\"driver_id\": [1001], \"event_timestamp\": [\"2024-01-01T00:00:00Z\"], ...}");
            var columns = df.EnumerateObject().ToList();
            if (columns.Count == 0) throw new GatewayRequestException("'df' has no columns", "send at least the join keys, the event timestamp and the features");
            int? count = null;
            foreach (var c in columns)
            {
                if (c.Value.ValueKind != JsonValueKind.Array)
                    throw new GatewayRequestException($"df.{c.Name} is {JsonEntityValues.Describe(c.Value)}, not a list", "send one value per row");
                var n = c.Value.GetArrayLength();
                if (count is { } k && n != k)
                    throw new GatewayRequestException($"df.{c.Name} has {n} values but df.{columns[0].Name} has {k}", "give every column one value per row");
                count = n;
            }
            var rows = new object?[count!.Value][];
            for (var r = 0; r < rows.Length; r++) rows[r] = new object?[columns.Count];
            for (var c = 0; c < columns.Count; c++)
            {
                var r = 0;
                foreach (var item in columns[c].Value.EnumerateArray()) rows[r++][c] = Raw(item, $"df.{columns[c].Name}[{r - 1}]");
            }
            return (columns.Select(c => c.Name).ToArray(), rows);
        }

        private static object? Raw(JsonElement value, string where) => value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetInt64(out var l) => l,
            // A JSON number has no float/double distinction: a fraction goes as its text, parsed as the declared float type
            // (0.99 for a Float32 feature), instead of a double that no Float32 equals exactly.
            JsonValueKind.Number => value.GetRawText(),
            _ => throw new GatewayRequestException($"{where} is {JsonEntityValues.Describe(value)}; push values are scalars", "send text, numbers, booleans or null"),
        };
    }

    /// <summary>The push call REST and gRPC share: the push source checked (404), then one call to its push grain.</summary>
    internal static class Pushes
    {
        public static async Task<PushResult> PushAsync(IServiceProvider services, string source, (string[] Columns, object?[][] Rows) table, PushMode to)
        {
            var queries = services.GetRequiredService<OnlineFeatureQueries>();
            var snapshot = await queries.SnapshotAsync();
            if (snapshot.DataSources.FirstOrDefault(d => d.Name == source) is not PushSource)
                throw new GatewayNotFoundException($"push source '{source}' is not in the registry of project '{snapshot.Project}'; known: {OnlineFeatureQueries.Known(snapshot.DataSources.OfType<PushSource>().Select(s => s.Name))}");
            var grains = services.GetRequiredService<IGrainFactory>();
            return await grains.GetGrain<IPushGrain>($"{snapshot.Project}/{source}").PushAsync(new PushRequest(table.Columns, table.Rows, to));
        }
    }
}

namespace Granary.Gateway.Grpc
{
    public sealed partial class GranaryGrpcService
    {
        /// <inheritdoc/>
        public override async Task<PushResponse> Push(V1.PushRequest request, ServerCallContext context)
        {
            if (string.IsNullOrEmpty(request.PushSourceName)) throw new GatewayRequestException("'push_source_name' is empty", "name the push source");
            var toText = string.IsNullOrEmpty(request.To) ? "online" : request.To;
            if (!PushModes.TryParse(toText, out var to))
                throw new GatewayRequestException($"'to' '{toText}' is not a push mode", "send \"online\", \"offline\" or \"online_and_offline\"");
            var columns = request.Columns.Keys.ToArray();
            if (columns.Length == 0) throw new GatewayRequestException("'columns' is empty", "send the join keys, the event timestamp and the features");
            var count = request.Columns[columns[0]].Val.Count;
            var rows = new object?[count][];
            for (var r = 0; r < count; r++) rows[r] = new object?[columns.Length];
            for (var c = 0; c < columns.Length; c++)
            {
                var values = request.Columns[columns[c]].Val;
                if (values.Count != count)
                    throw new GatewayRequestException($"columns.{columns[c]} has {values.Count} values but columns.{columns[0]} has {count}", "give every column one value per row");
                for (var r = 0; r < count; r++) rows[r][c] = Raw(values[r], $"columns.{columns[c]}[{r}]");
            }
            var result = await Pushes.PushAsync(context.GetHttpContext().RequestServices, request.PushSourceName, (columns, rows), to);
            return new PushResponse
            {
                RowsReceived = result.RowsReceived, RowsAccepted = result.RowsAccepted, DuplicatesDropped = result.DuplicatesDropped,
                RowsIgnoredAsOlder = result.RowsIgnoredAsOlder, OnlineRowsApplied = result.OnlineRowsApplied, OfflineRowsAppended = result.OfflineRowsAppended,
            };
        }

        // A proto value as the push grain takes it: its own CLR type (the grain converts only when exact).
        private static object? Raw(Value value, string where) => value.ValCase switch
        {
            Value.ValOneofCase.None or Value.ValOneofCase.NullVal => null,
            Value.ValOneofCase.StringVal => value.StringVal,
            Value.ValOneofCase.Int32Val => value.Int32Val,
            Value.ValOneofCase.Int64Val => value.Int64Val,
            Value.ValOneofCase.DoubleVal => value.DoubleVal,
            Value.ValOneofCase.FloatVal => value.FloatVal,
            Value.ValOneofCase.BoolVal => value.BoolVal,
            Value.ValOneofCase.BytesVal => value.BytesVal.ToByteArray(),
            Value.ValOneofCase.UnixTimestampVal => RequestTimes.FromEpochSeconds(value.UnixTimestampVal, where),
            Value.ValOneofCase.Int64ListVal => value.Int64ListVal.Val.ToArray(),
            Value.ValOneofCase.Int32ListVal => value.Int32ListVal.Val.ToArray(),
            Value.ValOneofCase.DoubleListVal => value.DoubleListVal.Val.ToArray(),
            Value.ValOneofCase.FloatListVal => value.FloatListVal.Val.ToArray(),
            Value.ValOneofCase.StringListVal => value.StringListVal.Val.ToArray(),
            Value.ValOneofCase.BoolListVal => value.BoolListVal.Val.ToArray(),
            _ => throw new GatewayRequestException($"{where} is a {value.ValCase}, which push does not take", "send scalar or list values"),
        };
    }
}
